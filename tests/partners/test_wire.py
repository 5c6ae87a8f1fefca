"""The offer's Page carries every structured field, and :func:`read_offer_page` reads it back."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fedi.partners.document import offer_page
from fedi.partners.fields import read_offer
from fedi.partners.wire import MalformedOffer, is_offer_page, read_offer_page
from tests.partners.test_fields import offer_payload


def _page(**changes: Any) -> dict[str, Any]:
    data = read_offer(offer_payload(**changes))
    return offer_page(
        data,
        object_id="https://pl.test/objects/1",
        author_uri="https://pl.test/users/anna",
        forum_uri="https://pl.test/groups/partners",
        to=[],
        cc=[],
        published="2027-01-10T10:00:00Z",
        status="published",
        validated_by="ESF PL",
    )


def test_every_field_survives_the_wire() -> None:
    sent = read_offer(offer_payload(expires="2027-03-01"))
    page = _page(expires="2027-03-01")
    assert is_offer_page(page)
    wire = read_offer_page(page)
    assert wire.uri == "https://pl.test/objects/1"
    assert wire.author == "https://pl.test/users/anna"
    assert wire.status == "published" and wire.validated_by == "ESF PL"
    assert wire.data == sent
    assert page["purpose"] == "offer" and page["proposer"]["country"] == "PL"


def test_a_summary_with_markup_characters_is_read_as_written() -> None:
    wire = read_offer_page(_page(summary="Jobs & <skills>"))
    assert wire.data.summary == "Jobs & <skills>"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p.update(offerStatus="withdrawn"), "offerStatus"),
        (lambda p: p.update(esfObjectives=["z"]), "objectives"),
        (lambda p: p["proposer"].update(organisationType="pirates"), "organisation.type"),
        (lambda p: p["proposer"].update(email="a@b.test"), "proposer.email"),
        (lambda p: p["funding"].pop("callDeadline"), "funding.call_deadline"),
        (lambda p: p.update(funding="soon"), "funding"),
        (lambda p: p.update(partnersNeeded="two"), "partners_needed"),
        (lambda p: p.pop("attributedTo"), "author"),
        (lambda p: p.update(validatedBy=3), "validatedBy"),
    ],
)
def test_malformed_fields_are_refused_with_a_reason(change: Any, reason: str) -> None:
    page = copy.deepcopy(_page())
    change(page)
    with pytest.raises(MalformedOffer) as caught:
        read_offer_page(page)
    assert reason in caught.value.reason


def test_a_forum_post_is_no_offer() -> None:
    assert not is_offer_page({"type": "Page", "name": "A thread"})
