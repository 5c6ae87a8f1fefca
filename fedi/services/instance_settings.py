"""The instance's settings as its administrators keep them: name, description, rules, and
whether new partner offers wait for a moderator's validation.

They live in the one-row table ``instance_settings``; until an administrator saves them the
name is ``FEDI_INSTANCE_NAME``, the description and rules are empty and offers are published
without validation (:func:`fedi.partners.policy.offers_need_validation` reads that flag). The
name and description are also the network ``Group`` actor's name and summary: saving a change
sends the group's followers an ``Update``.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedi.actors.local import local_actor
from fedi.content.markdown import render_markdown
from fedi.db.hot_reads import HotReads
from fedi.db.models import InstanceSettings
from fedi.errors import ValidationError
from fedi.services.publishing import publish_actor_update
from fedi.settings import Settings

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "MAX_RULES",
    "InstanceInfo",
    "check",
    "load",
    "name_in_force",
    "save",
]

log = logging.getLogger(__name__)

MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_RULES = 20000


@dataclass(frozen=True)
class InstanceInfo:
    """The settings in force: the stored ones, or the defaults when none are stored."""

    name: str
    description: str
    rules: str
    offers_need_validation: bool
    saved: bool

    @property
    def rules_html(self) -> str:
        """The rules, written in Markdown, as sanitised HTML."""
        return render_markdown(self.rules) if self.rules else ""


def _info(
    row: InstanceSettings | Row[str, str, str, bool] | None, settings: Settings
) -> InstanceInfo:
    """The settings in force from the stored row (or its columns, :data:`_STORED`)."""
    if row is None:
        return InstanceInfo(settings.instance_name, "", "", False, saved=False)
    return InstanceInfo(
        row.name, row.description, row.rules, row.offers_need_validation, saved=True
    )


async def load(session: AsyncSession, settings: Settings) -> InstanceInfo:
    """The settings in force."""
    return _info(await session.get(InstanceSettings, 1), settings)


_STORED = select(
    InstanceSettings.name,
    InstanceSettings.description,
    InstanceSettings.rules,
    InstanceSettings.offers_need_validation,
).where(InstanceSettings.id == 1)


async def load_now(reads: HotReads, settings: Settings) -> InstanceInfo:
    """The settings in force, read by ``reads`` (on SQLite with no hand-over to another
    thread), for pages that need nothing else from a session."""

    def read(connection: Connection) -> InstanceInfo:
        return _info(connection.execute(_STORED).first(), settings)

    return await reads.run(read)


async def name_in_force(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> str | None:
    """The name in force, or None when the database cannot answer yet (not migrated, down)."""
    try:
        async with sessions() as session:
            return (await load(session, settings)).name
    except SQLAlchemyError as error:
        log.warning("the instance name is not read from the database: %s", error)
        return None


def _control_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def check(name: str, description: str, rules: str) -> tuple[str, str, str]:
    """The name, description and rules as they are stored, or :class:`ValidationError` naming
    every refused field."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["the instance needs a name"]
    elif len(name) > MAX_NAME or _control_characters(name):
        errors["name"] = [f"the name must be one line of at most {MAX_NAME} characters"]
    description = _lines(description)
    if len(description) > MAX_DESCRIPTION or _control_characters(description, "\n\t"):
        errors["description"] = [
            f"the description must be plain text of at most {MAX_DESCRIPTION} characters"
        ]
    rules = _lines(rules)
    if len(rules) > MAX_RULES or _control_characters(rules, "\n\t"):
        errors["rules"] = [f"the rules must be text of at most {MAX_RULES} characters"]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, errors=errors)
    return name, description, rules


async def save(
    session: AsyncSession,
    settings: Settings,
    *,
    name: str,
    description: str,
    rules: str,
    offers_need_validation: bool,
) -> InstanceInfo:
    """Store the settings (every field is checked first: nothing is stored when one is refused).

    When the name or description changed, the network group takes them as its name and summary
    and its followers are sent an ``Update``."""
    name, description, rules = check(name, description, rules)
    row = await session.get(InstanceSettings, 1)
    if row is None:
        row = InstanceSettings(id=1)
        session.add(row)
    row.name = name
    row.description = description
    row.rules = rules
    row.offers_need_validation = offers_need_validation
    await session.flush()
    group = await local_actor(session, settings, settings.network_handle)
    if group is not None and (group.display_name, group.summary or "") != (name, description):
        group.display_name = name
        group.summary = description
        await publish_actor_update(session, settings, group)
    return _info(row, settings)
