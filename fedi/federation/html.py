"""HTML that enters or leaves the instance is sanitised here, with nh3 (a maintained allow-list
sanitiser), keeping the tags Mastodon, Lemmy and Misskey render and dropping everything else."""

from __future__ import annotations

import nh3

__all__ = ["sanitise_html"]

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
