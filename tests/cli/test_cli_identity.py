"""The instance's identity: the base URL stored at the first migrate, checked by every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedi.cli import main
from fedi.db import identity, migrate


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a server started with ``FEDI_PORT=8411`` and no ``FEDI_BASE_URL``."""
    for name in [n for n in os.environ if n.startswith("FEDI_") and not n.startswith("FEDI_TEST")]:
        monkeypatch.delenv(name)
    values = {
        "FEDI_DATA_DIR": str(tmp_path / "var"),
        "FEDI_DATABASE_URL": database_url,
        "FEDI_PORT": "8411",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_command_run_without_the_servers_port_stops_and_says_whose_data_it_is(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "migrate")[0] == 0
    assert identity.stored_base_url(env["FEDI_DATABASE_URL"]) == "http://localhost:8411"

    monkeypatch.delenv("FEDI_PORT")  # as `fedi user add anna` typed in another shell
    status, out, err = run(capsys, "user", "add", "anna")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert "belongs to the instance at http://localhost:8411" in err
    assert "FEDI_BASE_URL is http://localhost:8000" in err

    monkeypatch.setenv("FEDI_PORT", "8411")
    assert run(capsys, "user", "list")[1].splitlines() == ["login  role       state"]
    assert run(capsys, "user", "add", "anna")[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["serve"],
        ["worker"],
        ["migrate"],
        ["migrate", "--down-to", "base"],
        ["check"],
        ["user", "list"],
        ["forum", "list"],
        ["block", "list"],
        ["peer", "list"],
        ["follow", "anna", "@bob@elsewhere.test"],
    ],
    ids=" ".join,
)
def test_every_command_started_with_another_base_url_stops(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    assert run(capsys, "migrate")[0] == 0
    monkeypatch.setenv("FEDI_BASE_URL", "https://other.example")
    if argv[0] in ("serve", "worker"):  # in a child, so that a failure cannot hang the suite
        done = subprocess.run(
            [sys.executable, "-m", "fedi", *argv], capture_output=True, text=True, timeout=60
        )
        status, err = done.returncode, done.stderr
    else:
        status, _, err = run(capsys, *argv)
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("fedi: error: this database belongs to the instance at ")
    assert migrate.status(env["FEDI_DATABASE_URL"]).at_head  # not even the downgrade ran


def test_migrate_stores_the_identity_of_a_database_migrated_before_it_was_kept(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = env["FEDI_DATABASE_URL"]
    assert identity.stored_base_url(url) is None  # not even migrated
    migrate.upgrade(url)  # as an older release's `fedi migrate` left it: no identity
    assert identity.stored_base_url(url) is None
    assert run(capsys, "migrate")[0] == 0
    assert identity.stored_base_url(url) == "http://localhost:8411"


def test_the_first_claim_stands(migrated_url: str) -> None:
    assert identity.claim_base_url(migrated_url, "https://first.example") == "https://first.example"
    assert identity.claim_base_url(migrated_url, "https://second.example") == (
        "https://first.example"
    )
