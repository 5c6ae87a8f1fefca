"""The use cases of questions to experts, on one instance: the e-mail a question and an answer
queue, in the recipient's language, carries the link to the conversation and no address of the
other side; an answer continues the question's conversation, whichever message it is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import EmailMessage
from fedi.errors import NotFoundError
from fedi.services.members import add_member
from fedi.services.profiles import update_profile
from fedi.services.questions import answer, ask_expert, conversation
from fedi.settings import Settings
from tests.conftest import make_settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_questions_and_answers_are_mailed_in_the_recipients_language(
    tmp_path: Path, migrated_url: str
) -> None:
    settings = make_settings(tmp_path / "var", migrated_url, FEDI_SMTP_URL="smtp://127.0.0.1:1")
    engine = make_async_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await _walk(session, settings)
    finally:
        await engine.dispose()


async def _walk(session: AsyncSession, settings: Settings) -> None:
    anna = await add_member(session, settings, "anna", "a long test password")
    bob = await add_member(session, settings, "bob", "a long test password")
    carla = await add_member(session, settings, "carla", "a long test password")
    anna.locale = "pl"
    profile = {"organisation": "Fundacja", "expertise": {"themes": ["social-inclusion"]}}
    await update_profile(session, settings, anna, profile | {"email": "anna@example.org"})
    await update_profile(session, settings, bob, {"email": "bob@example.org"})
    asked = await ask_expert(
        session, settings, bob.actor, "@anna@esf.test",
        {"subject": "Mentors", "message": "How?"}, now=NOW,
    )  # fmt: skip
    first = await answer(session, settings, anna.actor, asked.id, {"message": "So."}, now=NOW)
    later = NOW + timedelta(minutes=1)
    second = await answer(session, settings, bob.actor, first.id, {"message": "And?"}, now=later)
    talk = await conversation(session, anna.actor, second.id)
    assert [row.id for row in talk.messages] == [asked.id, first.id, second.id]
    assert second.parent_id == asked.id and talk.other(anna.actor).id == bob.actor.id
    try:
        await conversation(session, carla.actor, asked.id)
    except NotFoundError:
        pass
    else:
        raise AssertionError("carla read a conversation she is not part of")

    mails = (await session.scalars(select(EmailMessage).order_by(EmailMessage.id))).all()
    by_recipient = {mail.recipient: mail for mail in mails}
    assert by_recipient.keys() == {"anna@example.org", "bob@example.org"}
    to_anna = [mail for mail in mails if mail.recipient == "anna@example.org"]
    assert [mail.subject for mail in to_anna] == [
        "@bob@esf.test zadaje Ci pytanie jako ekspertowi",
        "@bob@esf.test odpowiada na Twoje pytanie",
    ]
    (to_bob,) = [mail for mail in mails if mail.recipient == "bob@example.org"]
    assert to_bob.subject == "@anna@esf.test answered about your question"
    assert f"{settings.base_url}/questions/{asked.id}" in to_bob.body
    assert "anna@example.org" not in to_bob.body and "bob@example.org" not in to_anna[0].body
