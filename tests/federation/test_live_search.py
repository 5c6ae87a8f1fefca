"""Live partner search across real instances on loopback: PL asks IT (which answers), an
address nobody listens on and a server that never answers; IT's offer is found and ranked with
its reasons, the others are listed as failed, and the answer comes within the deadline. The
query endpoint answers signed requests only, with local offers only; a replica and a live answer
for the same offer count once."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import instance_actor_auth
from fedi.db.models import BlockSeverity, ContentObject, DomainBlock, Offer, Peer, utcnow
from fedi.instance import build_context
from fedi.net.errors import HttpStatusError
from fedi.partners import policy
from fedi.partners.live import query_url
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance
from tests.partners.test_fields import offer_payload
from tests.schemas.test_emitted_documents import errors

pytestmark = pytest.mark.federation

DEADLINE = 1
# What the answer may take past the deadline: the local search and the merge, on a machine busy
# with the rest of the suite. The silent peer never answers, so any bound shows the deadline holds.
MARGIN = 4.0


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[RunningInstance, RunningInstance]]:
    policy.set_validation_override(False)
    with ExitStack() as stack:
        stack.callback(policy.set_validation_override, None)
        url_pl = stack.enter_context(temporary_database(backend, tmp_path))
        url_it = stack.enter_context(temporary_database(backend, tmp_path))
        environ = {"FEDI_LIVE_SEARCH_DEADLINE": str(DEADLINE)}
        pl = stack.enter_context(
            running_instance(tmp_path / "pl", url_pl, country="PL", environ=environ)
        )
        it = stack.enter_context(running_instance(tmp_path / "it", url_it, country="IT"))
        yield pl, it


@pytest.fixture
def silent() -> Iterator[str]:
    """The base URL of a server that takes connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _dead() -> str:
    """The base URL of a port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _host(base_url: str) -> str:
    return base_url.split("://", 1)[1]


def _add_peers(instance: RunningInstance, *base_urls: str) -> None:
    async def work(session: AsyncSession) -> None:
        for base_url in base_urls:
            session.add(Peer(host=_host(base_url), base_url=base_url, partner=True))

    instance.run(work)


def _offer(instance: RunningInstance, token: str, **changes: Any) -> dict[str, Any]:
    payload = offer_payload(**changes)
    deadline = (utcnow().date() + timedelta(days=90)).isoformat()
    payload["funding"] = {**payload["funding"], "call_deadline": deadline}
    created = httpx.post(
        f"{instance.base_url}/api/v1/offers",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    offer: dict[str, Any] = created.json()
    return offer


def _search(instance: RunningInstance, **params: str) -> httpx.Response:
    return httpx.get(f"{instance.base_url}/api/v1/offers/search", params=params, timeout=30)


def _signed_get(signer: RunningInstance, url: str) -> dict[str, Any]:
    """``url`` fetched as ``signer``'s instance actor signs it."""

    async def fetch() -> dict[str, Any]:
        context = build_context(signer.settings)
        try:
            async with context.sessions() as session:
                auth = await instance_actor_auth(context, session)
            fetched = await context.client.fetch_json(url, auth=auth)
        finally:
            await context.aclose()
        return fetched.data

    return asyncio.run(fetch())


def test_a_live_search_finds_a_partner_offer_and_names_the_peers_that_failed(
    pair: tuple[RunningInstance, RunningInstance], silent: str
) -> None:
    pl, it = pair
    marco = it.add_member("marco")
    offer = _offer(it, marco, title="Agricoltura sociale per giovani", translations={})
    own = _offer(pl, pl.add_member("anna"), title="Cyfrowe kompetencje seniorów", translations={})
    dead = _dead()
    _add_peers(pl, it.base_url, dead, silent)

    # Without live, nothing is asked and IT's offer is not known here.
    alone = _search(pl, q="agricoltura")
    assert alone.status_code == 200, alone.text
    assert alone.json()["items"] == []
    assert alone.json()["peers"] == {"asked": [], "answered": [], "failed": []}

    started = time.monotonic()
    found = _search(pl, q="agricoltura", live="true")
    took = time.monotonic() - started
    assert found.status_code == 200, found.text
    assert took < DEADLINE + MARGIN, took
    body = found.json()
    (item,) = body["items"]
    assert item["offer"]["id"] == offer["id"]
    assert item["offer"]["local"] is False
    assert item["offer"]["origin"] == it.settings.domain
    assert item["offer"]["title"] == "Agricoltura sociale per giovani"
    assert item["why"][0]["reason"] == "text"
    assert all(why["detail"] for why in item["why"])
    assert body["total"] == 1
    peers = body["peers"]
    assert sorted(peers["asked"]) == sorted([it.settings.domain, _host(dead), _host(silent)])
    assert peers["answered"] == [it.settings.domain]
    failed = {failure["host"]: failure["reason"] for failure in peers["failed"]}
    assert set(failed) == {_host(dead), _host(silent)}
    assert failed[_host(silent)] == "timeout"
    assert failed[_host(dead)] and failed[_host(dead)] != "timeout"

    # The results page says the same, in English and in Polish, and links the offer at IT.
    for language, answered, missed, late in (
        ("en", "Partner instances that answered:", "did not answer", "no answer in time"),
        ("pl", "Serwery partnerskie, które odpowiedziały:", "nie odpowiedziały", "brak odpowiedzi"),
    ):
        page = httpx.get(
            f"{pl.base_url}/offers/search",
            params={"q": "agricoltura", "live": "true"},
            headers={"Accept-Language": language},
            timeout=30,
        )
        assert page.status_code == 200, page.text
        assert f"{answered} {it.settings.domain}" in page.text
        assert missed in page.text
        assert f"{_host(silent)}: {late}" in page.text
        assert f'href="{offer["id"]}"' in page.text
    quiet = httpx.get(f"{pl.base_url}/offers/search", params={"q": "agricoltura"}, timeout=30)
    assert "Partner instances that" not in quiet.text

    # Local and live results rank together: every item has its reasons.
    both = _search(pl, q="", live="true", objective="h").json()
    titles = [item["offer"]["title"] for item in both["items"]]
    assert sorted(titles) == ["Agricoltura sociale per giovani", "Cyfrowe kompetencje seniorów"]
    assert all(any(w["reason"] == "objective" for w in item["why"]) for item in both["items"])
    assert both["total"] == 2
    # Every order takes the offers of both: PL's was published after IT's.
    newest = _search(pl, q="", live="true", sort="newest").json()["items"]
    assert [item["offer"]["id"] for item in newest] == [own["id"], offer["id"]]
    by_deadline = _search(pl, q="", live="true", sort="deadline", limit="1").json()
    assert by_deadline["total"] == 2 and len(by_deadline["items"]) == 1


def test_the_query_endpoint_answers_signed_requests_with_local_offers_only(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    marco = it.add_member("marco")
    offer = _offer(it, marco, title="Agricoltura sociale per giovani", translations={})
    url = query_url(it.base_url, [("q", "agricoltura"), ("limit", "5")])

    unsigned = httpx.get(url, headers={"Accept": "application/activity+json"}, timeout=30)
    assert unsigned.status_code == 401, unsigned.text

    answer = _signed_get(pl, url)
    assert errors("ordered-collection", answer) == []
    assert answer["type"] == "OrderedCollection"
    assert answer["id"] == url
    assert answer["totalItems"] == 1
    (page,) = answer["orderedItems"]
    served = _signed_get(pl, offer["id"])
    assert page == {key: value for key, value in served.items() if key != "@context"}

    # A replica held by IT (here: its offer re-labelled as another host's) is never answered.
    async def make_replica(session: AsyncSession) -> None:
        await session.execute(
            update(ContentObject)
            .where(ContentObject.uri == offer["id"])
            .values(local=False, uri=f"{pl.base_url}/objects/elsewhere")
        )

    it.run(make_replica)
    assert _signed_get(pl, url)["orderedItems"] == []

    # Bad parameters are refused, signed or not, and the group must be the network's.
    for bad in ({"limit": "0"}, {"limit": "101"}, {"objective": "zz"}, {"sort": "best"}):
        with pytest.raises(HttpStatusError) as refused:
            _signed_get(pl, f"{it.base_url}/groups/network/offers/search?{urlencode(bad)}")
        assert refused.value.status == 422, bad
    with pytest.raises(HttpStatusError) as missing:
        _signed_get(pl, f"{it.base_url}/groups/partners/offers/search")
    assert missing.value.status == 404


def test_a_replica_and_a_live_answer_for_the_same_offer_count_once(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    offer = _offer(it, it.add_member("marco"), title="Agricoltura sociale", translations={})
    # PL's replica of IT's offer: an offer of PL's whose Page is re-labelled with IT's id.
    mine = _offer(pl, pl.add_member("anna"), title="Agricoltura sociale", translations={})

    async def make_replica(session: AsyncSession) -> int:
        await session.execute(
            update(ContentObject)
            .where(ContentObject.uri == mine["id"])
            .values(local=False, uri=offer["id"])
        )
        found = await session.scalars(
            select(Offer.id).join(ContentObject).where(ContentObject.uri == offer["id"])
        )
        return len(found.all())

    assert pl.run(make_replica) == 1
    _add_peers(pl, it.base_url)
    found = _search(pl, q="agricoltura", live="true")
    assert found.status_code == 200, found.text
    body = found.json()
    assert [item["offer"]["id"] for item in body["items"]] == [offer["id"]]
    assert body["total"] == 1
    assert body["peers"]["answered"] == [it.settings.domain]


def test_bad_live_parameters_are_refused(pair: tuple[RunningInstance, RunningInstance]) -> None:
    pl, _it = pair
    for bad in ({"live": "yes"}, {"live": ""}, {"live": "true", "limit": "0"}):
        refused = _search(pl, **bad)
        assert refused.status_code == 422, (bad, refused.text)


@pytest.fixture
def answering() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A server that answers every GET with a collection of the Pages put in its list."""
    pages: list[dict[str, Any]] = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = json.dumps(
                {
                    "id": f"{base}{self.path}",
                    "type": "OrderedCollection",
                    "totalItems": len(pages),
                    "orderedItems": pages,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def test_only_well_formed_pages_of_the_partners_own_host_are_kept(
    pair: tuple[RunningInstance, RunningInstance], answering: tuple[str, list[dict[str, Any]]]
) -> None:
    pl, it = pair
    base, pages = answering
    offer = _offer(it, it.add_member("marco"), title="Agricoltura sociale", translations={})
    served = _signed_get(pl, offer["id"])
    del served["@context"]
    own = {**served, "id": f"{base}/objects/1", "attributedTo": f"{base}/users/marco"}
    pages += [
        own,
        served,  # IT's offer, not the answering host's
        {**own, "id": f"{base}/objects/2", "attributedTo": served["attributedTo"]},
        {**own, "id": f"{base}/objects/3", "offerStatus": "draft"},
        {**own, "id": f"{base}/objects/4", "esfObjectives": ["zz"]},
        "not a Page",
    ]
    suspended = _dead()
    _add_peers(pl, base, suspended)

    async def suspend(session: AsyncSession) -> None:
        session.add(DomainBlock(domain=_host(suspended), severity=BlockSeverity.SUSPEND))

    pl.run(suspend)
    body = _search(pl, q="agricoltura", live="true").json()
    assert [item["offer"]["id"] for item in body["items"]] == [own["id"]]
    assert body["items"][0]["offer"]["author"]["handle"] == f"@marco@{_host(base)}"
    assert body["peers"] == {"asked": [_host(base)], "answered": [_host(base)], "failed": []}
