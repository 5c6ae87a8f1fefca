"""Markdown source to safe HTML, and HTML to a short plain-text excerpt.

markdown-it-py (CommonMark, plus tables and strikethrough) renders with raw HTML disabled; nh3
then keeps only the tags and attributes listed here, and marks every link
``rel="nofollow noopener ugc"``.
"""

from __future__ import annotations

import html as html_lib

import nh3
from markdown_it import MarkdownIt

__all__ = ["plain_excerpt", "render_markdown"]

_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}

_renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(source: str) -> str:
    """Sanitised HTML for the Markdown ``source``."""
    return nh3.clean(
        _renderer.render(source),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )


def plain_excerpt(html: str, limit: int = 300) -> str:
    """The text of ``html``, whitespace folded, cut at a word with "…" past ``limit``."""
    text = " ".join(html_lib.unescape(nh3.clean(html, tags=set())).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.") + "…"
