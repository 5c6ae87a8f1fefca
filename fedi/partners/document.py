"""The AS2 ``Page`` of an offer: readable as an ordinary post (name, summary, HTML content with
the key facts as a short list, ``url``), addressed to the public and the partner forum."""

from __future__ import annotations

import html
from typing import Any

from fedi.content.markdown import render_markdown
from fedi.partners.fields import OfferData
from fedi.vocabulary import vocabulary

__all__ = ["offer_content_html", "offer_page"]


def _labels(name: str, codes: list[str], locale: str) -> str:
    vocab = vocabulary(name)
    return ", ".join(vocab.label(code, locale) for code in codes)


def offer_content_html(data: OfferData, description: str, locale: str) -> str:
    """The key facts as a list, then the description rendered from Markdown."""
    org = data.organisation
    facts = [
        (
            vocabulary("offer-purposes").label(data.purpose, locale)
            + " · "
            + vocabulary("offer-levels").label(data.level, locale)
        ),
        f"{org['name']} ({vocabulary('countries').label(str(org['country']), locale)})",
        "Call deadline: " + data.call_deadline.isoformat(),
    ]
    if data.codes["objectives"]:
        facts.append("ESF+ objectives: " + ", ".join(data.codes["objectives"]))
    if data.codes["themes"]:
        facts.append(_labels("themes", data.codes["themes"], locale))
    if data.codes["countries_sought"]:
        facts.append("Partners sought in: " + ", ".join(data.codes["countries_sought"]))
    items = "".join(f"<li>{html.escape(fact)}</li>" for fact in facts)
    body = render_markdown(description) if description else ""
    return f"<ul>{items}</ul>{body}"


def offer_page(
    data: OfferData,
    *,
    object_id: str,
    author_uri: str,
    forum_uri: str,
    to: list[str],
    cc: list[str],
    published: str,
    updated: str | None = None,
) -> dict[str, Any]:
    """The ``Page`` document (without ``@context``)."""
    locale = data.language if data.language in ("en", "pl") else "en"
    page: dict[str, Any] = {
        "id": object_id,
        "type": "Page",
        "attributedTo": author_uri,
        "audience": forum_uri,
        "name": data.title,
        "summary": html.escape(data.summary),
        "content": offer_content_html(data, data.description, locale),
        "source": {"content": data.description, "mediaType": "text/markdown"},
        "url": object_id,
        "published": published,
        "to": to,
        "cc": cc,
    }
    if data.translations:
        page["nameMap"] = {data.language: data.title}
        page["summaryMap"] = {data.language: page["summary"]}
        page["contentMap"] = {data.language: page["content"]}
        for lang, texts in data.translations.items():
            page["nameMap"][lang] = texts["title"]
            page["summaryMap"][lang] = html.escape(texts["summary"])
            page["contentMap"][lang] = offer_content_html(
                data, texts["description"], lang if lang in ("en", "pl") else "en"
            )
    else:
        page["contentMap"] = {data.language: page["content"]}
    if updated is not None:
        page["updated"] = updated
    return page
