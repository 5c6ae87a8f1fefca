from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors, local_actor
from fedi.db.models import Activity, Delivery, InstanceSettings
from fedi.errors import ValidationError
from fedi.federation.render import render_actor
from fedi.partners import policy
from fedi.services import instance_settings
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(autouse=True)
def _no_override() -> Iterator[None]:
    policy.set_validation_override(None)
    yield
    policy.set_validation_override(None)


async def test_until_saved_the_configured_name_is_in_force(
    session: AsyncSession, settings: Settings
) -> None:
    current = await instance_settings.load(session, settings)
    assert current.name == settings.instance_name
    assert (current.description, current.rules, current.rules_html) == ("", "", "")
    assert not current.offers_need_validation and not current.saved
    assert await policy.offers_need_validation(session) is False


async def test_saving_stores_the_settings_and_renames_the_network_group(
    session: AsyncSession, settings: Settings
) -> None:
    await ensure_instance_actors(session, settings)
    group = await local_actor(session, settings, settings.network_handle)
    assert group is not None
    await add_remote_follower(session, group, "social.test", "reader")
    saved = await instance_settings.save(
        session,
        settings,
        name="  ESF+ Polska ",
        description="The Polish network.\r\n\r\nWelcome.",
        rules="1. Be **kind**.\n",
        offers_need_validation=True,
    )
    assert saved.name == "ESF+ Polska" and saved.saved
    assert saved.description == "The Polish network.\n\nWelcome."
    assert saved.rules_html == "<ol>\n<li>Be <strong>kind</strong>.</li>\n</ol>"
    assert await instance_settings.load(session, settings) == saved
    assert await policy.offers_need_validation(session) is True

    assert (group.display_name, group.summary) == ("ESF+ Polska", "The Polish network.\n\nWelcome.")
    [update] = (await session.scalars(select(Activity).where(Activity.type == "Update"))).all()
    assert update.document["actor"] == group.uri
    assert update.document["object"] == render_actor(group, settings)
    assert update.document["object"]["name"] == "ESF+ Polska"
    assert "The Polish network." in update.document["object"]["summary"]
    [delivery] = (await session.scalars(select(Delivery))).all()
    assert delivery.inbox == "https://social.test/inbox"

    # Only the rules and the flag change: the group's followers are not bothered.
    await instance_settings.save(
        session,
        settings,
        name="ESF+ Polska",
        description="The Polish network.\n\nWelcome.",
        rules="",
        offers_need_validation=False,
    )
    assert await _count(session, Activity) == 1
    assert await _count(session, InstanceSettings) == 1
    assert await policy.offers_need_validation(session) is False


async def test_the_override_wins_over_the_stored_flag(
    session: AsyncSession, settings: Settings
) -> None:
    await instance_settings.save(
        session, settings, name="N", description="", rules="", offers_need_validation=True
    )
    policy.set_validation_override(False)
    assert await policy.offers_need_validation(session) is False
    policy.set_validation_override(None)
    assert await policy.offers_need_validation(session) is True


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"name": "  "}, {"name"}),
        ({"name": "x" * 101}, {"name"}),
        ({"name": "two\nlines"}, {"name"}),
        ({"description": "x" * 2001}, {"description"}),
        ({"description": "bell\x07"}, {"description"}),
        ({"rules": "x" * 20001}, {"rules"}),
        ({"name": "", "description": "\x00", "rules": "\x1b"}, {"name", "description", "rules"}),
    ],
)
async def test_refused_values_store_nothing(
    session: AsyncSession, settings: Settings, values: dict[str, str], fields: set[str]
) -> None:
    given = {"name": "Network", "description": "", "rules": "", **values}
    with pytest.raises(ValidationError) as refused:
        await instance_settings.save(session, settings, offers_need_validation=True, **given)
    assert set(refused.value.errors) == fields
    assert await _count(session, InstanceSettings) == 0
    assert await policy.offers_need_validation(session) is False
