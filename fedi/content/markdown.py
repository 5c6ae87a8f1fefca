"""Markdown as members write it, turned into the HTML we store and send.

markdown-it-py parses (CommonMark, with tables and strikethrough; raw HTML in the source is shown
as text, never passed through), then nh3 keeps only the tags and attributes listed here, so what
reaches a page or a peer is safe whatever the source said. Links get
``rel="nofollow noopener ugc"``.
"""

from __future__ import annotations

from html import unescape

import nh3
from markdown_it import MarkdownIt

__all__ = ["plain_excerpt", "render_markdown"]

_TAGS = frozenset(
    {
        "a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del",
        "code", "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th",
        "td", "img",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(source: str) -> str:
    """The sanitised HTML of Markdown ``source``."""
    rendered = _parser().render(source)
    return nh3.clean(
        rendered,
        tags=set(_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="nofollow noopener ugc",
    ).strip()


def plain_excerpt(html: str, limit: int = 300) -> str:
    """The text of ``html`` (tags dropped, entities read, spaces folded), at most ``limit``
    characters, cut at a word with "…" when it is longer."""
    text = unescape(nh3.clean(html, tags=set()))
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    if " " in cut and not words[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"
