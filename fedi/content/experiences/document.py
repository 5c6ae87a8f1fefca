"""The ``Article`` an experience is, as it is stored and sent (docs/federation.md, "Experiences").

Mastodon shows an Article as its ``name``, ``summary`` and a link to ``url``, so ``summary`` is the
member's summary (or the start of the text) as one paragraph of HTML, and ``url`` the experience's
page. ``content`` is the sanitised HTML of the Markdown, ``source`` the Markdown itself;
translations go in ``nameMap``, ``summaryMap`` and ``contentMap`` (every version, the original
included), the original's language in ``originalLanguage``. The structured fields are terms of
our JSON-LD context (:data:`EXPERIENCE_CONTEXT`).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fedi.content.experiences.fields import ExperienceInput, Version
from fedi.content.markdown import plain_excerpt, render_markdown
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC

__all__ = ["EXPERIENCE_CONTEXT", "NAMESPACE", "article", "summary_html"]

NAMESPACE = "https://schemas.transnationality.eu/ns#"

# Our terms for experiences, one block of the object's @context (documented term by term in
# docs/federation.md). Lists are sets of vocabulary codes (schemas/vocabularies/).
EXPERIENCE_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "Hashtag": "as:Hashtag",
    "experienceKind": "tn:experienceKind",
    "originalLanguage": "tn:originalLanguage",
    "country": "tn:country",
    "esfObjectives": {"@id": "tn:esfObjectives", "@container": "@set"},
    "themes": {"@id": "tn:themes", "@container": "@set"},
    "targetGroups": {"@id": "tn:targetGroups", "@container": "@set"},
    "programmePeriod": "tn:programmePeriod",
    "organisation": "tn:organisation",
    "results": "tn:results",
    "transferability": "tn:transferability",
}


def summary_html(version: Version) -> str:
    """The summary as one paragraph: the member's own, or the start of the text."""
    text = version.summary or plain_excerpt(render_markdown(version.body))
    return f"<p>{escape(text)}</p>"


def _versions(data: ExperienceInput) -> dict[str, Version]:
    return {data.language: data.original, **data.translations}


def article(
    data: ExperienceInput,
    *,
    object_id: str,
    page_url: str,
    author_uri: str,
    followers_uri: str,
    published: str,
    tag_base: str,
    attachments: list[dict[str, Any]],
    updated: str | None = None,
) -> dict[str, Any]:
    """The stored document (with ``@context``) of the experience ``data``."""
    versions = _versions(data)
    document: dict[str, Any] = {
        "@context": [AS2_CONTEXT, dict(EXPERIENCE_CONTEXT)],
        "id": object_id,
        "type": "Article",
        "attributedTo": author_uri,
        "name": data.original.title,
        "summary": summary_html(data.original),
        "content": render_markdown(data.original.body),
        "mediaType": "text/html",
        "source": {"content": data.original.body, "mediaType": "text/markdown"},
        "nameMap": {language: v.title for language, v in versions.items()},
        "summaryMap": {language: summary_html(v) for language, v in versions.items()},
        "contentMap": {language: render_markdown(v.body) for language, v in versions.items()},
        "url": page_url,
        "published": published,
        "to": [PUBLIC],
        "cc": [followers_uri],
        "experienceKind": data.kind,
        "originalLanguage": data.language,
        "esfObjectives": list(data.objectives),
        "themes": list(data.themes),
        "targetGroups": list(data.target_groups),
    }
    optional = {
        "country": data.country,
        "programmePeriod": data.programme_period,
        "organisation": data.organisation,
        "results": data.results,
        "transferability": data.transferability,
        "updated": updated,
    }
    document.update({key: value for key, value in optional.items() if value})
    if data.tags:
        document["tag"] = [
            {"type": "Hashtag", "name": f"#{tag}", "href": f"{tag_base}{quote(tag.lower())}"}
            for tag in data.tags
        ]
    if attachments:
        document["attachment"] = attachments
    return document
