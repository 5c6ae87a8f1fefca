"""``/new``: the "new here" page leads to the newest resources (only resources, in the reader's
language), the experiences, partner search and the forums, in English and Polish."""

from __future__ import annotations

from starlette.testclient import TestClient

from fedi.testing.web import sign_in
from fedi.web import newcomers
from tests.web.test_experiences import PASSWORD, _write
from tests.web.test_experiences import client as client


def test_a_newcomer_is_led_to_resources_experiences_partners_and_forums(
    client: TestClient,
) -> None:
    empty = client.get("/new")
    assert empty.status_code == 200
    assert "There are no resources yet." in empty.text
    assert 'href="/new"' in empty.text  # in the main navigation
    assert 'href="/offers/search"' in empty.text and 'href="/offers/new"' not in empty.text

    sign_in(client, "anna", PASSWORD)
    _write(client, title="How to plan a transnational project")
    for number in range(newcomers.RESOURCES_SHOWN + 1):
        _write(client, kind="resource", title=f"Partnership agreement template {number}")
    page = client.get("/new")
    assert "How to plan a transnational project" not in page.text  # an experience, not a resource
    shown = [n for n in range(newcomers.RESOURCES_SHOWN + 1) if f"template {n}<" in page.text]
    assert shown == list(range(1, newcomers.RESOURCES_SHOWN + 1))  # the newest five
    assert "All 6 resources" in page.text and 'href="/experiences?kind=resource"' in page.text
    assert 'href="/offers/new"' in page.text  # members may publish

    polish = client.get("/new", headers={"Accept-Language": "pl"})
    assert "Zacznij swój ponadnarodowy projekt EFS+" in polish.text
    # Each resource in the reader's language: the form gives every one a Polish version.
    assert polish.text.count(">Mentoring młodych migrantów</a>") == newcomers.RESOURCES_SHOWN
    assert "Partnership agreement template" not in polish.text
    assert "Wszystkie materiały (6)" in polish.text
