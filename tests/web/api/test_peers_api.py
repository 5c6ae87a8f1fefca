"""``/api/v1/admin/peers``: delivery health per host (moderators), retry now (admins)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from fedi.cli.common import run_in_session
from fedi.db.models import Peer, utcnow
from fedi.settings import Settings
from tests.web.api.conftest import Api


def _add_hosts(settings: Settings) -> None:
    now = utcnow()

    async def work(session: Any) -> None:
        session.add_all(
            [Peer(host=f"ok{i}.test", last_success_at=now) for i in range(3)]
            + [
                Peer(
                    host="dead.test",
                    consecutive_failures=9,
                    first_failure_at=now - timedelta(days=3),
                    available=False,
                    circuit_open_until=now + timedelta(hours=6),
                )
            ]
        )

    run_in_session(settings, work)


def test_a_moderator_pages_through_the_hosts_troubled_first(api: Api, settings: Settings) -> None:
    _add_hosts(settings)
    first = api.client.get("/api/v1/admin/peers?limit=2", headers=api.auth("mira"))
    assert first.status_code == 200
    body = first.json()
    assert [item["host"] for item in body["items"]] == ["dead.test", "ok0.test"]
    assert body["total"] == 4
    dead = body["items"][0]
    assert dead["failures_in_a_row"] == 9 and dead["waiting"] == 0
    assert dead["unavailable_since"] is not None and dead["paused_until"] is not None
    second = api.client.get(body["next"], headers=api.auth("mira")).json()
    assert [item["host"] for item in second["items"]] == ["ok1.test", "ok2.test"]
    assert second["next"] is None
    assert api.client.get("/api/v1/admin/peers", headers=api.auth("anna")).status_code == 403
    assert api.checker.checked == 3


def _paused_until(settings: Settings) -> object:
    async def work(session: Any) -> object:
        return await session.scalar(select(Peer.circuit_open_until).where(Peer.host == "dead.test"))

    return run_in_session(settings, work)


def test_only_an_admin_retries_a_known_host(api: Api, settings: Settings) -> None:
    _add_hosts(settings)
    refused = api.client.post("/api/v1/admin/peers/dead.test/retry", headers=api.auth("mira"))
    assert refused.status_code == 403
    assert _paused_until(settings) is not None
    unknown = api.client.post("/api/v1/admin/peers/nowhere.test/retry", headers=api.auth("ada"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    done = api.client.post("/api/v1/admin/peers/dead.test/retry", headers=api.auth("ada"))
    assert done.status_code == 200
    assert done.json() == {"host": "dead.test", "due_now": 0}
    assert _paused_until(settings) is None
