"""HTML that enters or leaves the instance is sanitised here, with nh3 (a maintained allow-list
sanitiser), keeping the tags Mastodon, Lemmy and Misskey render and dropping everything else."""

from __future__ import annotations

import html
import re

import nh3

__all__ = ["sanitise_html", "text_to_html"]

_TAGS = {
    "p",
    "br",
    "a",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "sup",
    "sub",
}
_ATTRIBUTES = {"a": {"href", "title", "class"}, "span": {"class"}, "ol": {"start"}}


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, one ``<p>`` per paragraph (blank-line separated), ``<br>``
    for the line breaks inside one. Empty text stays empty."""
    paragraphs = _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in part.split("\n")) + "</p>"
        for part in paragraphs
        if part.strip()
    )
