"""The federation commands against real instances: tokens, follow/unfollow, key rotation, the
worker process, and ``fedi serve`` over TLS."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli import main
from fedi.db import migrate
from fedi.db.models import Activity, Actor, ApiToken, Delivery, Follow
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, collection_items, running_instance, wait_until
from fedi.testing.tls import make_test_ca
from tests.cli.test_cli import run

AS2 = {"Accept": "application/activity+json"}

HELP = [["worker"], ["follow"], ["unfollow"], ["user", "token"], ["user", "rotate-key"]]


@pytest.mark.parametrize("command", HELP, ids=" ".join)
def test_federation_commands_have_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert f"usage: fedi {' '.join(command)}" in capsys.readouterr().out


def cli_environment(instance: RunningInstance) -> dict[str, str]:
    """FEDI_* variables under which ``fedi`` acts for ``instance`` (its data directory holds the
    secret key)."""
    return {
        name: value
        for name, value in instance.settings.masked().items()
        if value and name != "FEDI_SECRET_KEY"
    }


@pytest.fixture
def use_instance(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point in-process ``main()`` at an instance through the environment."""

    def point(instance: RunningInstance) -> None:
        for name in [n for n in os.environ if n.startswith("FEDI_") and "TEST" not in n]:
            monkeypatch.delenv(name)
        for name, value in cli_environment(instance).items():
            monkeypatch.setenv(name, value)

    return point


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[RunningInstance, RunningInstance]]:
    with ExitStack() as stack:
        url_pl = stack.enter_context(temporary_database(backend, tmp_path))
        url_it = stack.enter_context(temporary_database(backend, tmp_path))
        pl = stack.enter_context(running_instance(tmp_path / "pl", url_pl, country="PL"))
        it = stack.enter_context(running_instance(tmp_path / "it", url_it, country="IT"))
        yield pl, it


def counts(instance: RunningInstance, *models: Any) -> tuple[int, ...]:
    async def work(session: AsyncSession) -> tuple[int, ...]:
        return tuple(
            [int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in models]
        )

    result: tuple[int, ...] = instance.run(work)
    return result


def test_user_token_is_shown_once_and_publishes(
    backend: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    use_instance: Any,
) -> None:
    with (
        temporary_database(backend, tmp_path) as url,
        running_instance(tmp_path / "pl", url, worker=False) as pl,
    ):
        use_instance(pl)
        assert run(capsys, "user", "add", "anna")[0] == 0
        status, out, err = run(capsys, "user", "token", "anna", "--label", "script")
        assert (status, err) == (0, "")
        header, token = out.splitlines()
        assert "shown once" in header
        assert token.startswith("fedi_")
        second = run(capsys, "user", "token", "anna")[1].splitlines()[1]
        assert second != token

        async def stored(session: AsyncSession) -> list[str]:
            rows = await session.scalars(select(ApiToken).order_by(ApiToken.id))
            return [f"{row.token_hash} {row.label}" for row in rows]

        rows = pl.run(stored)
        assert len(rows) == 2 and rows[0].endswith(" script") and rows[1].endswith(" ")
        assert not any(token in row or second in row for row in rows)  # only hashes kept

        response = pl.post("anna", token, {"type": "Note", "content": "from a script"})
        assert response.status_code == 201, response.text
        assert response.json()["actor"] == pl.actor_uri("anna")
        refused = pl.post("anna", token[:-2] + "xx", {"type": "Note", "content": "no"})
        assert refused.status_code == 401

        assert run(capsys, "user", "token", "nobody") == (
            1,
            "",
            "fedi: error: no member 'nobody'\n",
        )


def test_follow_and_unfollow_by_handle(
    pair: tuple[RunningInstance, RunningInstance],
    capsys: pytest.CaptureFixture[str],
    use_instance: Any,
) -> None:
    pl, it = pair
    use_instance(pl)
    pl.add_member("anna")
    it.add_member("marco")
    anna, marco = pl.actor_uri("anna"), it.actor_uri("marco")
    handle = f"@marco@{it.settings.domain}"
    assert it.settings.domain.startswith("localhost:")

    before = counts(pl, Actor, Follow, Delivery)
    for bad in ("marco", "@marco@", f"@nobody@{it.settings.domain}", "@marco@127.0.0.1:1"):
        status, out, err = run(capsys, "follow", "anna", bad)
        assert (status, out) == (1, ""), bad
        assert err.startswith(f"fedi: error: cannot look up {bad}: ") and err.count("\n") == 1
    assert counts(pl, Actor, Follow, Delivery) == before  # nothing stored

    status, _, err = run(capsys, "follow", "nobody", handle)
    assert (status, err) == (1, "fedi: error: no member 'nobody'\n")
    assert counts(pl, Actor, Follow, Delivery) == before  # checked before looking marco up
    status, _, err = run(capsys, "unfollow", "anna", handle)
    assert (status, err) == (1, f"fedi: error: {anna} does not follow {marco}\n")
    assert counts(pl, Follow, Delivery) == before[1:]

    assert run(capsys, "follow", "anna", handle) == (
        0,
        f"anna asked to follow {marco} (pending)\n",
        "",
    )
    wait_until(lambda: collection_items(f"{marco}/followers") == [anna])
    wait_until(lambda: collection_items(f"{anna}/following") == [marco])  # the Accept arrived

    assert run(capsys, "unfollow", "anna", handle) == (0, f"anna no longer follows {marco}\n", "")
    assert collection_items(f"{anna}/following") == []
    wait_until(lambda: collection_items(f"{marco}/followers") == [])


def test_rotate_key_changes_the_key_and_sends_an_update(
    pair: tuple[RunningInstance, RunningInstance],
    capsys: pytest.CaptureFixture[str],
    use_instance: Any,
) -> None:
    pl, it = pair
    use_instance(pl)
    pl.add_member("anna")
    it.add_member("marco")
    anna = pl.actor_uri("anna")
    it.follow("marco", anna)
    wait_until(lambda: collection_items(f"{anna}/followers") == [it.actor_uri("marco")])

    def key_of(instance: RunningInstance) -> str | None:
        async def work(session: AsyncSession) -> str | None:
            return await session.scalar(select(Actor.public_key_pem).where(Actor.uri == anna))

        result: str | None = instance.run(work)
        return result

    old_key = key_of(pl)
    assert old_key is not None and key_of(it) == old_key

    status, out, _ = run(capsys, "user", "rotate-key", "anna")
    assert (status, out) == (0, "new keys for anna; followers are sent an Update\n")
    new_key = key_of(pl)
    assert new_key is not None and new_key != old_key
    assert httpx.get(anna, headers=AS2).json()["publicKey"]["publicKeyPem"] == new_key

    async def updates(session: AsyncSession) -> list[tuple[Any, str]]:
        rows = await session.execute(
            select(Activity.document, Delivery.inbox)
            .join(Delivery, Delivery.activity_id == Activity.id)
            .where(Activity.type == "Update")
        )
        return [(document, inbox) for document, inbox in rows]

    queued = pl.run(updates)
    assert [inbox for _, inbox in queued] == [f"{it.base_url}/inbox"]
    assert queued[0][0]["object"]["publicKey"]["publicKeyPem"] == new_key
    wait_until(lambda: key_of(it) == new_key)  # the follower took the new key

    status, _, err = run(capsys, "user", "rotate-key", "nobody")
    assert (status, err) == (1, "fedi: error: no member 'nobody'\n")
    assert key_of(pl) == new_key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subprocess_environment(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_")}
    return {
        **inherited,
        "FEDI_DATA_DIR": str(tmp_path / "var"),
        "FEDI_DATABASE_URL": database_url,
        **extra,
    }


def start(argv: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fedi", *argv], env=environ, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_serve_over_tls_defaults_to_https(tmp_path: Path, database_url: str) -> None:
    ca = make_test_ca(tmp_path / "ca")
    port = free_port()
    migrate.upgrade(database_url)
    environ = subprocess_environment(
        tmp_path,
        database_url,
        FEDI_PORT=str(port),
        FEDI_TLS_CERT=str(ca.cert_path),
        FEDI_TLS_KEY=str(ca.key_path),
    )
    log = tmp_path / "serve.log"
    process = start(["serve", "--no-worker"], environ, log)
    trusted = ssl.create_default_context(cafile=str(ca.ca_cert_path))
    base = f"https://localhost:{port}"

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/healthz", verify=trusted, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, timeout=30)
        actor = httpx.get(f"{base}/actor", headers=AS2, verify=trusted, timeout=5).json()
        assert actor["id"] == f"{base}/actor"
        assert actor["inbox"].startswith(f"{base}/")
        with pytest.raises(httpx.ConnectError):  # not trusted without the test CA
            httpx.get(f"{base}/healthz", verify=ssl.create_default_context(), timeout=5)
        with pytest.raises(httpx.TransportError):  # TLS only
            httpx.get(f"http://localhost:{port}/healthz", timeout=5)
    finally:
        status = stop(process)
    output = log.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal so the parent sees why it stopped.
    assert status in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert f"at {base}\n" in output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_worker_stops_cleanly_on_sigterm(tmp_path: Path, database_url: str) -> None:
    migrate.upgrade(database_url)
    environ = subprocess_environment(tmp_path, database_url, FEDI_BASE_URL="https://esf.test")
    log = tmp_path / "worker.log"
    process = start(["worker"], environ, log)
    try:
        wait_until(lambda: "started" in log.read_text() or process.poll() is not None, timeout=30)
        assert process.poll() is None, log.read_text()
        assert "worker for https://esf.test started" in log.read_text()
    finally:
        status = stop(process)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()
