from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli import main
from fedi.cli.common import run_in_session
from fedi.db import migrate
from fedi.services.members import find_member
from fedi.services.passwords import verify_password
from fedi.settings import load_settings

COMMANDS = [
    ["serve"],
    ["migrate"],
    ["check"],
    ["user"],
    ["user", "add"],
    ["user", "list"],
    ["user", "set-role"],
    ["user", "reset-password"],
]


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "FEDI_DATA_DIR": str(tmp_path / "var"),
        "FEDI_DATABASE_URL": database_url,
        "FEDI_BASE_URL": "https://esf.test",
    }
    for name in [n for n in os.environ if n.startswith("FEDI_") and not n.startswith("FEDI_TEST")]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: fedi" in capsys.readouterr().out


def test_migrate_is_idempotent(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    head = migrate.head_revision()
    assert run(capsys, "migrate")[:2] == (0, f"database at {head}; newest migration {head}\n")
    assert run(capsys, "migrate")[:2] == (0, f"database at {head}; newest migration {head}\n")
    status, out, _ = run(capsys, "migrate", "--down-to", "base")
    assert (status, out) == (0, f"database at base (empty); newest migration {head}\n")


def test_check_masks_secrets_and_fails_before_migration(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDI_SECRET_KEY", "k" * 40)
    status, out, err = run(capsys, "check")
    assert status == 1
    assert "FEDI_SECRET_KEY=********" in out
    assert "k" * 40 not in out
    assert err.count("\n") == 1 and "run `fedi migrate`" in err
    run(capsys, "migrate")
    status, out, _ = run(capsys, "check")
    assert status == 0
    assert "migrations at head" in out


def test_bad_settings_fail_with_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDI_PORT", "0")
    status, _, err = run(capsys, "check")
    assert status == 1
    assert err.startswith("fedi: error: invalid settings: FEDI_PORT")
    assert err.count("\n") == 1


def test_user_commands(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "migrate")
    status, out, _ = run(capsys, "user", "add", "anna", "--role", "moderator")
    assert status == 0
    password = out.split("password: ")[1].strip()
    assert len(password) >= 16

    status, _, err = run(capsys, "user", "add", "anna")
    assert status == 1 and "exists already" in err

    status, _, err = run(capsys, "user", "add", "bob", "--role", "emperor")
    assert status == 1 and "unknown role" in err

    monkeypatch.setattr(sys, "stdin", io.StringIO("a chosen password\n"))
    status, out, _ = run(capsys, "user", "add", "bob", "--password-stdin")
    assert status == 0 and "password:" not in out

    status, out, _ = run(capsys, "user", "set-role", "bob", "admin")
    assert (status, out) == (0, "bob is now admin\n")

    status, out, _ = run(capsys, "user", "list")
    assert status == 0
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["login", "role", "state"],
        ["anna", "moderator", "active"],
        ["bob", "admin", "active"],
    ]

    status, out, _ = run(capsys, "user", "reset-password", "anna")
    new_password = out.split("password: ")[1].strip()
    assert status == 0 and new_password != password

    status, _, err = run(capsys, "user", "reset-password", "nobody")
    assert status == 1 and err == "fedi: error: no member 'nobody'\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_serve_prints_the_first_admin_once_and_answers_healthz(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    environ = {
        **os.environ,
        **env,
        "FEDI_PORT": str(port),
        "FEDI_BASE_URL": f"http://localhost:{port}",
    }
    fedi = [sys.executable, "-m", "fedi"]
    refused = subprocess.run(
        [*fedi, "serve"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("run `fedi migrate`")
    subprocess.run([*fedi, "migrate"], env=environ, check=True, capture_output=True, timeout=60)

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*fedi, "serve"],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            process.kill()
            pytest.fail("fedi serve did not answer /healthz within 30 s")
        return process

    def stop(process: subprocess.Popen[str]) -> str:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
        return out

    process = start()
    assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    first = stop(process)
    assert f"at http://localhost:{port}" in first
    login_line = next(line for line in first.splitlines() if "first admin" in line)
    password = login_line.rsplit("password ", 1)[1]

    process = start()
    second = stop(process)
    assert "first admin" not in second

    async def stored_hash(session: AsyncSession) -> str:
        return (await find_member(session, "admin")).password_hash

    assert verify_password(password, run_in_session(load_settings(environ), stored_hash))


@pytest.mark.parametrize(
    "argv",
    [["user", "list"], ["user", "add", "anna"], ["block", "list"], ["peer", "list"], ["worker"]],
    ids=" ".join,
)
def test_commands_on_an_unmigrated_database_fail_with_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("fedi: error: ") and "fedi migrate" in err


def test_a_bad_revision_fails_with_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "migrate")
    status, _, err = run(capsys, "migrate", "--down-to", "nonexistent")
    assert status == 1
    assert err.startswith("fedi: error: migration failed:") and err.count("\n") == 1


def test_an_unwritable_data_dir_fails_with_one_line(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("FEDI_DATA_DIR", str(blocker / "var"))
    status, _, err = run(capsys, "check")
    assert status == 1
    assert err.startswith("fedi: error: invalid settings: FEDI_DATA_DIR") and err.count("\n") == 1


def test_an_empty_password_on_stdin_is_refused(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "migrate")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    status, _, err = run(capsys, "user", "add", "anna", "--password-stdin")
    assert (status, err) == (1, "fedi: error: --password-stdin read an empty password\n")
    assert run(capsys, "user", "list")[1].splitlines() == ["login  role       state"]


def test_settings_from_a_config_file(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "fedi.toml"
    config.write_text('instance_name = "ESF Italia"\ncountry = "IT"\n', encoding="utf-8")
    status, out, _ = run(capsys, "--config", str(config), "check")
    assert "FEDI_INSTANCE_NAME=ESF Italia" in out and "FEDI_COUNTRY=IT" in out
    config.write_text("country = 5\nbogus = 1\n", encoding="utf-8")
    status, _, err = run(capsys, "--config", str(config), "check")
    assert status == 1 and "unknown setting 'bogus'" in err and err.count("\n") == 1
