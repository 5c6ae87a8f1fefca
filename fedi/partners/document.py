"""The AS2 ``Page`` of an offer: readable as an ordinary post (name, summary, HTML content with
the key facts as a short list, ``url``), addressed to the public and the partner forum, and
carrying every structured field under our JSON-LD context (:data:`OFFER_CONTEXT`), so that a peer
instance of ours reads the offer back whole (:mod:`fedi.partners.wire`)."""

from __future__ import annotations

import html
from typing import Any

from fedi.content.markdown import render_markdown
from fedi.federation.vocab import AS2_CONTEXT
from fedi.partners.fields import OfferData
from fedi.translations import shared_catalogs
from fedi.vocabulary import vocabulary

__all__ = ["OFFER_CONTEXT", "offer_content_html", "offer_context", "offer_page"]

NAMESPACE = "https://schemas.transnationality.eu/ns#"
# FEP-0837 (federated marketplace) reads a proposal's ``purpose`` ("offer" or "request") as the
# ValueFlows term; ours has the same two values, so it is that term.
VALUEFLOWS = "https://w3id.org/valueflows/ont/vf#"


def _set(term: str) -> dict[str, str]:
    return {"@id": f"tn:{term}", "@container": "@set"}


# Our terms for partner offers, one block of the Page's @context (documented term by term in
# docs/federation.md, "Partner offers"). Lists are sets of vocabulary codes.
OFFER_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "vf": VALUEFLOWS,
    "purpose": "vf:purpose",
    "offerLevel": "tn:offerLevel",
    "offerStatus": "tn:offerStatus",
    "cooperation": _set("cooperation"),
    "originalLanguage": "tn:originalLanguage",
    "workingLanguages": _set("workingLanguages"),
    "esfObjectives": _set("esfObjectives"),
    "themes": _set("themes"),
    "targetGroups": _set("targetGroups"),
    "keywords": _set("keywords"),
    "proposer": "tn:proposer",
    "organisationType": "tn:organisationType",
    "country": "tn:country",
    "region": "tn:region",
    "city": "tn:city",
    "countriesSought": _set("countriesSought"),
    "organisationTypesSought": _set("organisationTypesSought"),
    "rolesSought": _set("rolesSought"),
    "partnersNeeded": {"@id": "tn:partnersNeeded", "@type": "xsd:integer"},
    "funding": "tn:funding",
    "programme": "tn:programme",
    "callReference": "tn:callReference",
    "callDeadline": {"@id": "tn:callDeadline", "@type": "xsd:date"},
    "plannedStart": {"@id": "tn:plannedStart", "@type": "xsd:date"},
    "durationMonths": {"@id": "tn:durationMonths", "@type": "xsd:integer"},
    "budgetMin": {"@id": "tn:budgetMin", "@type": "xsd:integer"},
    "budgetMax": {"@id": "tn:budgetMax", "@type": "xsd:integer"},
    "currency": "tn:currency",
    "lastMinute": {"@id": "tn:lastMinute", "@type": "xsd:boolean"},
    "expires": {"@id": "tn:expires", "@type": "xsd:date"},
    "validatedBy": "tn:validatedBy",
    "sourceMap": {"@id": "tn:sourceMap", "@container": "@language"},
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def offer_context() -> list[Any]:
    """``@context`` of an offer's ``Page``: AS2 and our offer terms."""
    return [AS2_CONTEXT, dict(OFFER_CONTEXT)]


def _labels(name: str, codes: list[str], locale: str) -> str:
    vocab = vocabulary(name)
    return ", ".join(vocab.label(code, locale) for code in codes)


def offer_content_html(data: OfferData, description: str, locale: str) -> str:
    """The key facts as a list, in ``locale`` (codes said by their labels), then the
    description rendered from Markdown."""
    said = shared_catalogs().for_locale(locale)
    org = data.organisation
    facts = [
        (
            vocabulary("offer-purposes").label(data.purpose, locale)
            + " · "
            + vocabulary("offer-levels").label(data.level, locale)
        ),
        f"{org['name']} ({vocabulary('countries').label(str(org['country']), locale)})",
        said.gettext("Call deadline: %(date)s") % {"date": data.call_deadline.isoformat()},
    ]
    if data.codes["objectives"]:
        objectives = _labels("objectives", data.codes["objectives"], locale)
        facts.append(said.gettext("ESF+ objectives: %(list)s") % {"list": objectives})
    if data.codes["themes"]:
        facts.append(_labels("themes", data.codes["themes"], locale))
    if data.codes["countries_sought"]:
        countries = _labels("countries", data.codes["countries_sought"], locale)
        facts.append(said.gettext("Partners sought in: %(list)s") % {"list": countries})
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
    status: str,
    validated_by: str | None = None,
    updated: str | None = None,
) -> dict[str, Any]:
    """The ``Page`` document (without ``@context``; :func:`offer_context` is its context)."""
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
    page.update(_structured(data, status, validated_by))
    return page


def _day(value: object) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def _structured(data: OfferData, status: str, validated_by: str | None) -> dict[str, Any]:
    """The terms of :data:`OFFER_CONTEXT`; absent optional values are left out."""
    org, fund, codes = data.organisation, data.funding, data.codes
    proposer = {
        "name": org["name"],
        "organisationType": org["type"],
        "country": org["country"],
        "region": org.get("region"),
        "city": org.get("city"),
    }
    funding = {
        "programme": fund.get("programme"),
        "callReference": fund.get("call_reference"),
        "callDeadline": _day(fund.get("call_deadline")),
        "plannedStart": _day(fund.get("planned_start")),
        "durationMonths": fund.get("duration_months"),
        "budgetMin": fund.get("budget_min"),
        "budgetMax": fund.get("budget_max"),
        "currency": fund.get("currency"),
    }
    terms: dict[str, Any] = {
        "purpose": data.purpose,
        "offerLevel": data.level,
        "offerStatus": status,
        "originalLanguage": data.language,
        "cooperation": list(codes.get("cooperation", [])),
        "workingLanguages": list(codes.get("working_languages", [])),
        "esfObjectives": list(codes.get("objectives", [])),
        "themes": list(codes.get("themes", [])),
        "targetGroups": list(codes.get("target_groups", [])),
        "keywords": list(codes.get("keywords", [])),
        "countriesSought": list(codes.get("countries_sought", [])),
        "organisationTypesSought": list(codes.get("organisation_types_sought", [])),
        "rolesSought": list(codes.get("roles_sought", [])),
        "proposer": {k: v for k, v in proposer.items() if v is not None},
        "funding": {k: v for k, v in funding.items() if v is not None},
        "lastMinute": data.last_minute,
        "expires": _day(data.expires or fund.get("call_deadline")),
    }
    if data.partners_needed is not None:
        terms["partnersNeeded"] = data.partners_needed
    if validated_by:
        terms["validatedBy"] = validated_by
    if data.translations:
        terms["sourceMap"] = {
            lang: texts["description"]
            for lang, texts in data.translations.items()
            if texts.get("description")
        }
    return terms
