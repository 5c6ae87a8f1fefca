"""``fedi forum add|list|edit|archive|reopen``."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import CommandError, run_in_session, settings_from_args
from fedi.db.models import utcnow
from fedi.services import forums

__all__ = ["add_commands"]


def cmd_add(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> tuple[str, str]:
        forum = await forums.create_forum(session, settings, args.slug, args.name, args.summary)
        return forum.username, forum.uri

    slug, uri = run_in_session(settings, work)
    print(f"added forum {slug}: follow @{slug}@{settings.domain} ({uri})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[tuple[str, str]]:
        return [(f.username, f.display_name) for f in await forums.list_forums(session, settings)]

    rows = run_in_session(settings, work)
    handles = [f"@{slug}@{settings.domain}" for slug, _ in rows]
    slug_width = max((len(slug) for slug, _ in rows), default=4)
    handle_width = max((len(handle) for handle in handles), default=6)
    print(f"{'slug':<{slug_width}}  {'handle':<{handle_width}}  name")
    for (slug, name), handle in zip(rows, handles, strict=True):
        print(f"{slug:<{slug_width}}  {handle:<{handle_width}}  {name}")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    if args.name is None and args.summary is None:
        raise CommandError("nothing to change: give --name, --summary or both")
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> tuple[str, bool]:
        forum = await forums.find_forum(session, settings, args.slug)
        before = (forum.display_name, forum.summary)
        await forums.update_forum(
            session, settings, forum.username, name=args.name, summary=args.summary
        )
        return forum.username, (forum.display_name, forum.summary) != before

    slug, changed = run_in_session(settings, work)
    if changed:
        print(f"forum {slug} updated; its followers are sent an Update")
    else:
        print(f"forum {slug} unchanged")
    return 0


def cmd_archive(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    reopen = args.forum_command == "reopen"

    async def work(session: AsyncSession) -> str:
        if reopen:
            return (await forums.reopen_forum(session, settings, args.slug)).actor.username
        now = utcnow()
        return (await forums.archive_forum(session, settings, args.slug, now)).actor.username

    slug = run_in_session(settings, work)
    print(f"forum {slug} reopened" if reopen else f"forum {slug} archived: no new threads")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forum = commands.add_parser(
        "forum",
        help="manage thematic forums",
        description="Manage thematic forums: each is a Group that anyone on the fediverse can "
        "follow as @SLUG@host, served at /groups/SLUG.",
    )
    sub = forum.add_subparsers(dest="forum_command", metavar="COMMAND", required=True)
    limits = f"at most {forums.MAX_NAME} characters"

    parser = sub.add_parser(
        "add",
        help="create a forum",
        description="Create a forum. Its slug cannot be changed later: it is the forum's "
        "identity on the fediverse.",
    )
    parser.add_argument(
        "slug",
        metavar="SLUG",
        help="1-30 lower-case letters, digits or underscores, not used by any member or group",
    )
    parser.add_argument("--name", required=True, help=f"the forum's display name ({limits})")
    parser.add_argument(
        "--summary",
        default="",
        metavar="TEXT",
        help=f"what the forum is about, plain text (at most {forums.MAX_SUMMARY} characters)",
    )
    parser.set_defaults(handler=cmd_add)

    parser = sub.add_parser(
        "list", help="list forums", description="List forums with their handles and names."
    )
    parser.set_defaults(handler=cmd_list)

    parser = sub.add_parser(
        "edit",
        help="change a forum's name or summary",
        description="Change a forum's name and/or summary; its followers are sent an Update.",
    )
    parser.add_argument("slug", metavar="SLUG")
    parser.add_argument("--name", help=f"the new display name ({limits})")
    parser.add_argument(
        "--summary", metavar="TEXT", help="the new summary, plain text; an empty one clears it"
    )
    parser.set_defaults(handler=cmd_edit)

    for name, text in (
        ("archive", "archive a forum: it stays readable and takes no new threads"),
        ("reopen", "take a forum out of the archive: it takes new threads again"),
    ):
        parser = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        parser.add_argument("slug", metavar="SLUG")
        parser.set_defaults(handler=cmd_archive)
