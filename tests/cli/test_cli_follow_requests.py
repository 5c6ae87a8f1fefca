from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fedi.cli import main
from fedi.db.engine import make_sync_engine
from fedi.db.models import (
    Activity,
    ActivityState,
    Actor,
    ActorType,
    Delivery,
    Follow,
    FollowState,
)

FOLLOWER = "https://it.test/users/marco"


@pytest.fixture
def env(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in [n for n in os.environ if n.startswith("FEDI_") and not n.startswith("FEDI_TEST")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FEDI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FEDI_DATABASE_URL", migrated_url)
    monkeypatch.setenv("FEDI_BASE_URL", "https://esf.test")
    return migrated_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _receive_follow(url: str) -> None:
    """A remote actor's Follow of anna, as the inbox worker leaves it when anna approves by hand."""
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        anna = session.scalar(select(Actor).where(Actor.username == "anna"))
        assert anna is not None and anna.manually_approves_followers
        marco = Actor(
            uri=FOLLOWER,
            type=ActorType.PERSON,
            local=False,
            username="marco",
            domain="it.test",
            inbox=f"{FOLLOWER}/inbox",
        )
        session.add(marco)
        session.flush()
        follow = {
            "id": "https://it.test/f/1",
            "type": "Follow",
            "actor": FOLLOWER,
            "object": anna.uri,
        }
        session.add(
            Activity(
                uri=follow["id"],
                type="Follow",
                actor_id=marco.id,
                object_uri=anna.uri,
                state=ActivityState.PROCESSED,
                document={"@context": "https://www.w3.org/ns/activitystreams", **follow},
            )
        )
        session.add(
            Follow(
                uri=follow["id"],
                follower_id=marco.id,
                followed_id=anna.id,
                state=FollowState.PENDING,
            )
        )
    engine.dispose()


def _sent(url: str) -> list[tuple[str, str, dict[str, object]]]:
    engine = make_sync_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(Activity.type, Delivery.inbox, Activity.document).join(
                Delivery, Delivery.activity_id == Activity.id
            )
        ).all()
    engine.dispose()
    return [(kind, inbox, document) for kind, inbox, document in rows]


def test_approving_followers_by_hand(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "user", "add", "anna")[0] == 0
    assert run(capsys, "user", "set-approval", "anna", "on")[:2] == (
        0,
        "new followers of anna wait for approval\n",
    )
    _receive_follow(env)
    assert run(capsys, "user", "follow-requests", "anna")[:2] == (0, f"{FOLLOWER}\n")

    assert run(capsys, "user", "accept-follower", "anna", FOLLOWER)[:2] == (
        0,
        f"accepted {FOLLOWER}\n",
    )
    assert run(capsys, "user", "follow-requests", "anna")[1] == ""
    ((kind, inbox, document),) = _sent(env)
    assert (kind, inbox) == ("Accept", f"{FOLLOWER}/inbox")
    assert document["object"] == {
        "id": "https://it.test/f/1",
        "type": "Follow",
        "actor": FOLLOWER,
        "object": "https://esf.test/users/anna",
    }
    status, _, err = run(capsys, "user", "accept-follower", "anna", FOLLOWER)
    assert (status, err) == (1, f"fedi: error: no follow request from {FOLLOWER}\n")

    assert run(capsys, "user", "reject-follower", "anna", FOLLOWER)[0] == 0
    assert sorted(kind for kind, _, _ in _sent(env)) == ["Accept", "Reject"]
    status, _, err = run(capsys, "user", "reject-follower", "anna", FOLLOWER)
    assert status == 1 and "no follow request" in err


@pytest.mark.usefixtures("env")
def test_set_approval_of_an_unknown_member_fails(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "user", "set-approval", "nobody", "on")
    assert (status, err) == (1, "fedi: error: no member 'nobody'\n")
