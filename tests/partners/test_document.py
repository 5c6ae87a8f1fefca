"""The HTML an ordinary fediverse reader sees of an offer: its key facts said with the labels of
the vocabularies, in the document's language, never as bare codes."""

from __future__ import annotations

from fedi.partners.document import offer_content_html
from fedi.partners.fields import read_offer
from tests.partners.test_fields import offer_payload


def test_the_facts_are_said_in_english_with_labels() -> None:
    data = read_offer(offer_payload(objectives=["a"], countries_sought=["IT", "EL"]))
    html = offer_content_html(data, data.description, "en")
    assert "<li>Call deadline: 2027-03-31</li>" in html
    assert "<li>ESF+ objectives: Access to employment and activation" in html
    assert "<li>Partners sought in: Italy, Greece</li>" in html
    assert "<strong>mentoringu</strong>" in html


def test_the_facts_are_said_in_polish_with_labels() -> None:
    data = read_offer(offer_payload(objectives=["a"], countries_sought=["IT"]))
    html = offer_content_html(data, data.description, "pl")
    assert "<li>Termin naboru: 2027-03-31</li>" in html
    assert "<li>Cele EFS+: Dostęp do zatrudnienia" in html
    assert "<li>Partnerzy poszukiwani w krajach: Włochy</li>" in html
