"""``fedi serve``: start one instance (and, later, its in-process worker)."""

from __future__ import annotations

import argparse

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.cli.common import prepare_search, run_in_session, settings_from_args
from fedi.log import configure_logging
from fedi.services.members import FirstAdmin, ensure_first_admin
from fedi.web import create_app
from fedi.web.listener import server_options

__all__ = ["add_commands"]


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    configure_logging(settings.log_level)

    async def bootstrap(session: AsyncSession) -> FirstAdmin | None:
        await ensure_instance_actors(session, settings)
        return await ensure_first_admin(session, settings)

    first_admin = run_in_session(settings, bootstrap)
    prepare_search()
    print(f"Transnationality ({settings.instance_name}) at {settings.base_url}", flush=True)
    print(f"listening on {settings.host}:{settings.port}", flush=True)
    if first_admin is not None:
        print(
            f"first admin created, shown only this once: login {first_admin.login}, "
            f"password {first_admin.password}",
            flush=True,
        )
    uvicorn.run(create_app(settings, run_worker=not args.no_worker), **server_options(settings))
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the instance's web server",
        description="Serve the instance at FEDI_HOST:FEDI_PORT (TLS when FEDI_TLS_CERT and "
        "FEDI_TLS_KEY are set). On a new instance, creates the first admin and prints its "
        "password once.",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not process the inbox and deliveries in this process (run `fedi worker`)",
    )
    parser.set_defaults(handler=cmd_serve)
