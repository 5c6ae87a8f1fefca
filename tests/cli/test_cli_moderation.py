from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from fedi.cli import main
from fedi.db.engine import make_sync_engine
from fedi.db.models import Peer


@pytest.fixture
def env(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDI_") and not n.startswith("FEDI_TEST")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FEDI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FEDI_DATABASE_URL", migrated_url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.usefixtures("env")
def test_block_add_list_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "block", "add", "Spam.Example.", "--reason", "spam")[:2] == (
        0,
        "spam.example and its subdomains: suspend\n",
    )
    assert run(capsys, "block", "add", "localhost:8443", "--severity", "silence")[0] == 0
    status, out, _ = run(capsys, "block", "list")
    assert status == 0
    assert out.splitlines() == ["localhost:8443\tsilence\t", "spam.example\tsuspend\tspam"]
    assert run(capsys, "block", "remove", "spam.example")[0] == 0
    status, _, err = run(capsys, "block", "remove", "spam.example")
    assert (status, err) == (1, "fedi: error: spam.example is not blocked\n")
    status, _, err = run(capsys, "block", "add", "bad domain")
    assert status == 1 and "is not a domain name" in err
    status, _, err = run(capsys, "block", "add", "x.example", "--severity", "ban")
    assert status == 1 and "unknown severity" in err
    assert run(capsys, "block", "list")[1].splitlines() == ["localhost:8443\tsilence\t"]


@pytest.mark.usefixtures("env")
def test_peer_health_shows_delivery_health(
    capsys: pytest.CaptureFixture[str], migrated_url: str
) -> None:
    header = "host\tstate\tfailures\tpending deliveries\tlast success"
    assert run(capsys, "peer", "health")[1].splitlines() == [header]
    engine = make_sync_engine(migrated_url)
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                Peer(host="down.test", available=False, consecutive_failures=40),
                Peer(
                    host="up.test",
                    consecutive_failures=0,
                    last_success_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                ),
            ]
        )
    engine.dispose()
    status, out, _ = run(capsys, "peer", "health")
    assert status == 0
    assert out.splitlines() == [
        header,
        "down.test\tunavailable\t40\t0\tnever",
        "up.test\tavailable\t0\t0\t2026-01-02 03:04 UTC",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["block", "add"],
        ["block", "list"],
        ["block", "remove"],
        ["peer", "list"],
        ["peer", "health"],
    ],
)
def test_moderation_commands_have_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: fedi" in capsys.readouterr().out
