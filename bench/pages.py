"""Pages: the thread page with 300 replies and the front page with 50 forums, served per second.

A migrated SQLite database in a temporary directory holds six members, one thread of 300 replies
(a tree: each reply answers the thread or one of the ten replies before it, so it goes several
levels deep, by turns of the six authors) and 50 forums. The application is
``create_app(settings)`` (no background worker) called in process as an ASGI app, request after
request, through all its middleware, for a visitor who is not signed in. The baseline is the
very same template rendered from its context, captured once from the application's own answer
(Starlette's ``http.response.debug`` message), in the same language with the same catalogue:
what is left when the database and the middleware cost nothing. Each of ``ROUNDS`` rounds times
both for ``SECONDS`` seconds, one after the other; the median round's ratio is the figure. Every
answer must be 200 and as long as the rendered page. Target: ratio >= 0.5 for both pages.
``--profile FILE`` writes a cProfile of the served thread page.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from fedi.actors.local import ensure_instance_actors
from fedi.cli.common import run_in_session
from fedi.content.threads.service import post_reply, start_thread
from fedi.db import migrate
from fedi.db.models import Actor
from fedi.services import forums
from fedi.services.members import add_member
from fedi.settings import Settings, load_settings
from fedi.web import create_app
from fedi.web.ui import i18n

__all__ = ["main"]

REPLIES = 300
FORUMS = 50
AUTHORS = ("anna", "bruno", "chiara", "dorota", "emil", "fatima")
ROUNDS = 5
SECONDS = 1.0
SEED = 3


def _settings(directory: Path) -> Settings:
    return load_settings(
        {
            "FEDI_DATA_DIR": str(directory),
            "FEDI_DATABASE_URL": f"sqlite:///{(directory / 'pages.sqlite3').as_posix()}",
            "FEDI_BASE_URL": "https://bench.test",
            "FEDI_INSTANCE_NAME": "ESF bench",
            "FEDI_COUNTRY": "PL",
        }
    )


def _prepare(settings: Settings) -> int:
    """Migrate and write the members, the forums and the thread; the thread's key."""
    migrate.upgrade(settings.database_url)
    rng = random.Random(SEED)  # noqa: S311 (the same tree every run)

    async def work(session: Any) -> int:
        await ensure_instance_actors(session, settings)
        for login in AUTHORS:
            await add_member(session, settings, login, "a long bench password")
        for n in range(FORUMS):
            await forums.create_forum(
                session, settings, f"forum_{n:02}", f"Forum {n}", f"Forum number {n}."
            )
        authors = list(
            (await session.scalars(select(Actor).where(Actor.username.in_(AUTHORS)))).all()
        )
        body = "How do you count the participants who join halfway through? " * 3
        fields = {"title": "Counting participants", "body": body, "language": "en"}
        thread = await start_thread(session, settings, authors[0], "forum_00", fields)
        uris = [thread.uri]
        for n in range(REPLIES):
            parent = rng.choice([*uris[-10:], thread.uri])
            text = f"Reply {n}: we **count** them once, at entry, and again at exit. " * 2
            reply = await post_reply(
                session,
                settings,
                authors[n % len(authors)],
                thread.key,
                {"body": text, "in_reply_to": parent, "language": "en"},
            )
            uris.append(reply.uri)
        await session.commit()
        return thread.key

    key: int = run_in_session(settings, work)
    return key


class Caller:
    """Calls an ASGI app in process with GET requests and collects the answers."""

    def __init__(self, app: Starlette, host: str) -> None:
        self.app = app
        self.host = host

    async def get(self, path: str, *, debug: bool = False) -> tuple[int, bytes, dict[str, Any]]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", self.host.encode()), (b"accept-language", b"en")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "extensions": {"http.response.debug": {}} if debug else {},
        }
        answer: dict[str, Any] = {"status": 0, "body": [], "debug": {}}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
            elif message["type"] == "http.response.debug":
                answer["debug"] = message["info"]

        await self.app(scope, receive, send)
        return answer["status"], b"".join(answer["body"]), answer["debug"]


async def _rate(step: Callable[[], Awaitable[None]], seconds: float) -> float:
    """Calls of ``step`` per second, run one after the other for ``seconds``."""
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        await step()
        done += 1
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - started)


async def _measure(app: Starlette, settings: Settings, pages: dict[str, str]) -> list[str]:
    caller = Caller(app, settings.domain)
    served: dict[str, Callable[[], Awaitable[None]]] = {}
    rendered: dict[str, Callable[[], Awaitable[None]]] = {}
    for name, path in pages.items():
        status, body, debug = await caller.get(path, debug=True)
        assert status == 200, (path, status, body[:300])
        template, context = debug["template"], debug["context"]
        size = len(template.render(context).encode())
        assert size == len(body), (name, size, len(body))

        async def serve(path: str = path, size: int = size) -> None:
            status, body, _ = await caller.get(path)
            assert status == 200 and len(body) == size, (path, status)

        async def render(template: Any = template, context: Any = context) -> None:
            # In the page's language with its catalogue, as the locale middleware serves it.
            token = i18n.use_locale("en", app.state.catalogs)
            try:
                template.render(context).encode()
            finally:
                i18n.reset_locale(token)

        served[name], rendered[name] = serve, render
    ratios: dict[str, list[tuple[float, float, float]]] = {name: [] for name in pages}
    for _ in range(ROUNDS):
        for name in pages:
            app_rate = await _rate(served[name], SECONDS)
            bare_rate = await _rate(rendered[name], SECONDS)
            ratios[name].append((app_rate / bare_rate, app_rate, bare_rate))
    lines = []
    for name, rounds in ratios.items():
        median = statistics.median(rounds)
        low, high = min(r[0] for r in rounds), max(r[0] for r in rounds)
        lines.append(
            f"pages {name}: {median[1]:,.0f} pages/s served, {median[2]:,.0f}/s rendered from "
            f"prepared data; ratio {median[0]:.2f} (rounds {low:.2f}-{high:.2f}; target >= 0.5)"
        )
    return lines


def _pages(key: int) -> dict[str, str]:
    return {f"thread ({REPLIES} replies)": f"/threads/{key}", f"front ({FORUMS} forums)": "/"}


async def _run(settings: Settings, key: int, profile: Path | None) -> list[str]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if profile is not None:
            caller = Caller(app, settings.domain)
            profiler = cProfile.Profile()
            profiler.enable()
            path = os.environ.get("BENCH_PAGE", f"/threads/{key}")
            for _ in range(200):
                await caller.get(path)
            profiler.disable()
            profiler.dump_stats(profile)
            return [f"pages: profile of 200 pages {path} written to {profile}"]
        return await _measure(app, settings, _pages(key))


def main(profile: Path | None = None) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        settings = _settings(Path(directory))
        key = _prepare(settings)
        return asyncio.run(_run(settings, key, profile))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profile", type=Path, help="write a cProfile of the thread page here")
    arguments = parser.parse_args()
    for line in main(arguments.profile):
        print(line, flush=True)
