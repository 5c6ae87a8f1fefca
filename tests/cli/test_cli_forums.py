from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli import main
from fedi.cli.common import run_in_session
from fedi.db.models import Activity
from fedi.services.forums import find_forum, forum_info
from fedi.settings import load_settings


@pytest.fixture
def env(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDI_") and not n.startswith("FEDI_TEST")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FEDI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FEDI_DATABASE_URL", migrated_url)
    monkeypatch.setenv("FEDI_BASE_URL", "https://esf.test")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def stored(slug: str) -> tuple[str, str, int]:
    """The forum's name and summary, and how many activities the instance sent."""

    async def work(session: AsyncSession) -> tuple[str, str, int]:
        forum = await find_forum(session, settings, slug)
        sent = await session.scalar(select(func.count()).select_from(Activity))
        return forum.display_name, forum.summary, int(sent or 0)

    settings = load_settings()
    return run_in_session(settings, work)


@pytest.mark.parametrize(
    "command",
    [
        ["forum"],
        ["forum", "add"],
        ["forum", "list"],
        ["forum", "edit"],
        ["forum", "archive"],
        ["forum", "reopen"],
    ],
    ids=" ".join,
)
def test_every_forum_command_has_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert f"usage: fedi {' '.join(command)}" in capsys.readouterr().out


@pytest.mark.usefixtures("env")
def test_forum_add_list_edit(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "forum", "list")[:2] == (0, "slug  handle  name\n")

    status, out, _ = run(
        capsys, "forum", "add", "Employment", "--name", "Employment", "--summary", "Jobs."
    )
    assert (status, out) == (
        0,
        "added forum employment: follow @employment@esf.test "
        "(https://esf.test/groups/employment)\n",
    )
    assert run(capsys, "forum", "add", "youth", "--name", "Youth and NEETs")[0] == 0
    assert stored("employment") == ("Employment", "Jobs.", 0)

    status, out, _ = run(capsys, "forum", "list")
    assert status == 0
    assert out.splitlines() == [
        "slug        handle                name",
        "employment  @employment@esf.test  Employment",
        "youth       @youth@esf.test       Youth and NEETs",
    ]

    status, out, _ = run(capsys, "forum", "edit", "employment", "--name", "Employment & skills")
    assert (status, out) == (0, "forum employment updated; its followers are sent an Update\n")
    assert stored("employment") == ("Employment & skills", "Jobs.", 1)

    status, out, _ = run(capsys, "forum", "edit", "employment", "--summary", "Jobs.")
    assert (status, out) == (0, "forum employment unchanged\n")
    assert stored("employment") == ("Employment & skills", "Jobs.", 1)

    assert run(capsys, "forum", "edit", "youth", "--summary", "")[0] == 0
    assert stored("youth") == ("Youth and NEETs", "", 1)


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["add", "youth", "--name", "Again"], "fedi: error: forum 'youth' exists already"),
        (["add", "anna", "--name", "Anna"], "fedi: error: 'anna' is taken by a member"),
        (["add", "network", "--name", "N"], "fedi: error: 'network' is the network group's"),
        (["add", "admin", "--name", "A"], "fedi: error: 'admin' is reserved"),
        (["add", "bad slug", "--name", "B"], "fedi: error: 'bad slug': use 1-30 lower-case"),
        (["add", "other", "--name", " "], "fedi: error: the forum needs a name"),
        (["edit", "nobody", "--name", "N"], "fedi: error: no forum 'nobody'"),
        (["edit", "network", "--name", "N"], "fedi: error: no forum 'network'"),
        (["edit", "youth"], "fedi: error: nothing to change"),
        (["edit", "youth", "--name", "x" * 101], "fedi: error: the name is longer than 100"),
    ],
)
def test_failures_are_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    assert run(capsys, "user", "add", "anna")[0] == 0
    assert run(capsys, "forum", "add", "youth", "--name", "Youth", "--summary", "S")[0] == 0
    listing = run(capsys, "forum", "list")[1]
    status, out, err = run(capsys, "forum", *argv)
    assert status == 1 and out == ""
    assert err.startswith(error) and err.count("\n") == 1
    assert run(capsys, "forum", "list")[1] == listing
    assert stored("youth") == ("Youth", "S", 0)


def test_forum_add_needs_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["forum", "add", "youth"])
    assert exited.value.code == 2
    assert "the following arguments are required: --name" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_forum_archive_and_reopen(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "forum", "add", "youth", "--name", "Youth")[0] == 0

    async def archived(session: AsyncSession) -> bool:
        return (await forum_info(session, load_settings(), "youth")).archived

    assert run(capsys, "forum", "archive", "youth")[:2] == (
        0,
        "forum youth archived: no new threads\n",
    )
    assert run_in_session(load_settings(), archived) is True
    assert run(capsys, "forum", "reopen", "youth")[:2] == (0, "forum youth reopened\n")
    assert run_in_session(load_settings(), archived) is False
    status, _, err = run(capsys, "forum", "archive", "nobody")
    assert status == 1 and err.startswith("fedi: error: no forum 'nobody'")
