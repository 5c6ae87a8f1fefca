"""A delivery worker killed mid-fan-out loses nothing, and another resumes within seconds.

PL serves without its in-process worker; ``fedi worker`` runs as a separate process. Forty posts
fan out to two real instances (IT with two followers behind one shared inbox, FR with one).
IT's answers are held back — after IT has recorded each activity — so that PL's rows to IT are
leased but not recorded when the worker is killed with SIGKILL. A new ``fedi worker`` knows its
predecessor is dead and takes its leases over at once, not when they end five minutes later
(SECURITY.md: at-least-once delivery; receivers de-duplicate).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, ContentObject, Delivery, DeliveryState, WorkerProcess
from fedi.testing import instances
from fedi.testing.databases import temporary_database
from fedi.testing.instances import (
    RunningInstance,
    collection_items,
    running_instance,
    wait_until,
)
from fedi.web import create_app

pytestmark = pytest.mark.federation


class InboxGate:
    """ASGI middleware in front of a real instance's app.

    It counts the activities its inboxes answered with 2xx (by activity ``id``) and, while
    closed, holds each inbox answer back until it is opened: the instance has recorded the
    activity, but the sender is still waiting, as with a slow peer.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.accepted: Counter[str] = Counter()
        self._open = threading.Event()
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST"):
            await self.app(scope, receive, send)
            return
        messages = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        try:
            activity_id = json.loads(b"".join(m.get("body", b"") for m in messages))["id"]
        except (ValueError, KeyError, TypeError):
            activity_id = None

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        async def gated_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                if activity_id and 200 <= message["status"] < 300:
                    self.accepted[activity_id] += 1
                if not self._open.is_set():
                    await asyncio.to_thread(self._open.wait)
            await send(message)

        await self.app(scope, replay, gated_send)


def gated_instance(
    stack: ExitStack, monkeypatch: pytest.MonkeyPatch, directory: Path, url: str, country: str
) -> tuple[RunningInstance, InboxGate]:
    """A real instance (with its worker) whose app is wrapped in an :class:`InboxGate`."""
    gates: list[InboxGate] = []

    def gated_app(*args: Any, **kwargs: Any) -> InboxGate:
        gates.append(InboxGate(create_app(*args, **kwargs)))
        return gates[-1]

    with monkeypatch.context() as patch:
        patch.setattr(instances, "create_app", gated_app)
        instance = stack.enter_context(running_instance(directory, url, country=country))
    return instance, gates[0]


def environment_of(instance: RunningInstance) -> dict[str, str]:
    """The process environment under which ``fedi`` commands act for ``instance``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_")}
    settings = {
        name: value
        for name, value in instance.settings.masked().items()
        if value and name != "FEDI_SECRET_KEY"  # the data directory holds the secret
    }
    return {**inherited, **settings}


def deliveries(instance: RunningInstance, activity_uris: list[str]) -> list[Any]:
    async def work(session: AsyncSession) -> list[Any]:
        rows = await session.execute(
            select(
                Delivery.id,
                Delivery.inbox,
                Delivery.state,
                Delivery.leased_until,
                Delivery.attempts,
            )
            .join(Activity, Activity.id == Delivery.activity_id)
            .where(Activity.uri.in_(activity_uris))
            .order_by(Delivery.id)
        )
        return list(rows)

    result: list[Any] = instance.run(work)
    return result


def delivered_ids(instance: RunningInstance) -> set[int]:
    async def work(session: AsyncSession) -> set[int]:
        query = select(Delivery.id).where(Delivery.state == DeliveryState.DELIVERED)
        return set((await session.scalars(query)).all())

    result: set[int] = instance.run(work)
    return result


def all_delivered(instance: RunningInstance) -> bool:
    async def work(session: AsyncSession) -> bool:
        states = set((await session.scalars(select(Delivery.state))).all())
        return bool(states) and states == {DeliveryState.DELIVERED}

    return bool(instance.run(work))


def stored_count(instance: RunningInstance, model: Any, uri: str) -> int:
    async def work(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).where(model.uri == uri)) or 0)

    return int(instance.run(work))


def worker_rows(instance: RunningInstance) -> list[int]:
    async def work(session: AsyncSession) -> list[int]:
        return list((await session.scalars(select(WorkerProcess.id))).all())

    result: list[int] = instance.run(work)
    return result


POSTS = 40


def test_a_killed_workers_fan_out_resumes_within_seconds_and_loses_nothing(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ExitStack() as stack:
        urls = [stack.enter_context(temporary_database(backend, tmp_path)) for _ in range(3)]
        pl = stack.enter_context(running_instance(tmp_path / "pl", urls[0], worker=False))
        it, it_gate = gated_instance(stack, monkeypatch, tmp_path / "it", urls[1], "IT")
        fr, fr_gate = gated_instance(stack, monkeypatch, tmp_path / "fr", urls[2], "FR")
        stack.callback(it_gate.open)  # never leave the server holding requests at shutdown
        token = pl.add_member("anna")
        anna = pl.actor_uri("anna")
        followers = []
        for instance, login in ((it, "marco"), (it, "giulia"), (fr, "jean")):
            instance.add_member(login)
            instance.follow(login, anna)
            followers.append(instance.actor_uri(login))

        def start_worker(name: str) -> subprocess.Popen[bytes]:
            log = stack.enter_context((tmp_path / f"{name}.log").open("w"))
            process = subprocess.Popen(
                [sys.executable, "-m", "fedi", "worker"],
                env=environment_of(pl),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(lambda: process.poll() is None and process.kill())
            return process

        first = start_worker("first")
        # The worker accepts the Follows; once the Accepts are out, IT starts answering slowly.
        wait_until(lambda: sorted(collection_items(f"{anna}/followers")) == sorted(followers))
        wait_until(lambda: all_delivered(pl))
        it_gate.close()

        creates = []
        for n in range(POSTS):
            response = pl.post("anna", token, {"type": "Note", "content": f"<p>post {n}</p>"})
            assert response.status_code == 201, response.text
            creates.append((response.json()["id"], response.json()["object"]["id"]))
        activity_uris = [activity for activity, _ in creates]

        def mid_fan_out() -> bool:
            rows = deliveries(pl, activity_uris)
            to_it = [r for r in rows if r.inbox.startswith(it.base_url)]
            to_fr = [r for r in rows if r.inbox.startswith(fr.base_url)]
            return (
                len(to_it) == len(to_fr) == POSTS
                and all(r.state is DeliveryState.DELIVERED for r in to_fr)
                and any(r.leased_until for r in to_it)
                # IT has recorded what is in flight; only its answers are held back.
                and sum(it_gate.accepted.values()) > 0
            )

        wait_until(mid_fan_out)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        it_gate.open()

        rows = deliveries(pl, activity_uris)
        to_it = [r for r in rows if r.inbox.startswith(it.base_url)]
        assert {r.inbox for r in to_it} == {f"{it.base_url}/inbox"}  # one per shared inbox
        leased = [r.id for r in to_it if r.state is DeliveryState.PENDING and r.leased_until]
        assert leased and worker_rows(pl)  # the dead worker's leases and its row are there
        lease_end = max(r.leased_until for r in to_it if r.leased_until)

        started = time.monotonic()
        second = start_worker("second")
        wait_until(lambda: delivered_ids(pl) >= set(leased), timeout=60)
        resumed = time.monotonic() - started
        wait_until(lambda: all_delivered(pl), timeout=60)
        finished = time.monotonic() - started
        print(
            f"\n{len(leased)} leased rows resent {resumed:.1f} s after the restart, all done "
            f"in {finished:.1f} s"
        )
        # Within seconds (the new process's start-up included), long before the leases end.
        assert resumed < 10.0
        assert datetime.now(UTC) < lease_end - timedelta(minutes=4)

        rows = deliveries(pl, activity_uris)
        assert len(rows) == 2 * POSTS
        assert all(r.state is DeliveryState.DELIVERED for r in rows), rows
        for activity, note in creates:
            assert 1 <= it_gate.accepted[activity] <= 2  # at least once; resent only if in flight
            assert fr_gate.accepted[activity] == 1  # delivered before the kill: never resent
            for receiver in (it, fr):
                assert stored_count(receiver, Activity, activity) == 1
                wait_until(lambda r=receiver, n=note: stored_count(r, ContentObject, n) == 1)

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        assert worker_rows(pl) == []  # a clean stop unregisters; the dead one was removed
