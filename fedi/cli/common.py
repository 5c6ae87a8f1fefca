"""What every command shares: settings loading, a database session, and one-line failures."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db import identity, migrate
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.search import warm_up
from fedi.search.text import dictionaries_ready, prepare_dictionaries
from fedi.settings import Settings, SettingsError, load_settings

__all__ = [
    "CommandError",
    "check_identity",
    "first_line",
    "prepare_search",
    "require_migrated",
    "run_in_session",
    "settings_from_args",
]

T = TypeVar("T")


class CommandError(Exception):
    """A command failed; the message is printed as one line and the exit status is 1."""


def prepare_search() -> None:
    """Build the search dictionaries before serving when this machine has not yet, saying so
    (the first start takes about a minute, every later one nothing), and load the search's
    models, so that the first offer indexed or searched after a start does not wait for them."""
    if not dictionaries_ready():
        print(
            "preparing the search dictionaries (once on this machine, about a minute):", flush=True
        )
        prepare_dictionaries(lambda language: print(f"  {language} ready", flush=True))
    warm_up()


def first_line(exc: BaseException) -> str:
    """The first line of what the underlying error says (a driver's, for database errors)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def require_migrated(settings: Settings) -> None:
    """Refuse to start on a database that is unreachable, not at the newest migration, or
    that belongs to another ``FEDI_BASE_URL`` (which is stored here if it was not yet)."""
    try:
        state = migrate.status(settings.database_url)
        if not state.at_head:
            raise CommandError(
                "the database is not migrated to the newest schema: run `fedi migrate`"
            )
        check_identity(settings, identity.claim_base_url(settings.database_url, settings.base_url))
    except SQLAlchemyError as exc:
        raise CommandError(f"database unreachable: {first_line(exc)}") from exc


def check_identity(settings: Settings, stored: str | None) -> None:
    """Stop unless ``stored``, the base URL the database belongs to, is ``FEDI_BASE_URL``."""
    if stored is not None and stored != settings.base_url:
        raise CommandError(
            f"this database belongs to the instance at {stored}, but FEDI_BASE_URL is "
            f"{settings.base_url}: set FEDI_BASE_URL={stored} (or FEDI_HOST/FEDI_PORT to match)"
        )


def settings_from_args(args: argparse.Namespace, *, open_database: bool = True) -> Settings:
    """The command's settings; unless ``open_database`` is false, also checks that the
    database is migrated and belongs to these settings (:func:`require_migrated`)."""
    config: Path | None = args.config
    try:
        settings = load_settings(config_file=config)
    except SettingsError as exc:
        raise CommandError("invalid settings: " + "; ".join(exc.problems)) from exc
    if open_database:
        require_migrated(settings)
    return settings


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction, committed when it returns and rolled back when it raises."""

    async def runner() -> T:
        engine = make_async_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())
