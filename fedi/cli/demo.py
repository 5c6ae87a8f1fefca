"""``fedi demo``: three national networks (Poland, Italy, Germany) on this machine's loopback,
each a ``fedi serve`` of its own with its own database, seeded with offers, requests,
experiences and discussions in their languages, and peered with each other (``fedi peer
add``), so that partner search on any one finds the offers of all three. It prints each URL
with an admin login and stops all three on Ctrl-C. A second run starts the same networks again,
with what was written in them, without seeding twice, and peers them again (which reads each
one's offers anew)."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import CommandError, prepare_search, run_in_session
from fedi.cli.demo_content import NETWORKS, Network
from fedi.cli.serving import LoopbackInstance, port_is_free, serving, wait_ready
from fedi.db import identity, migrate
from fedi.db.models import Role
from fedi.files import private_directory, private_file
from fedi.instance import build_context
from fedi.peers import service as peering
from fedi.peers.sync import SyncError, sync_peer
from fedi.services import members, tokens
from fedi.settings import load_settings

__all__ = ["add_commands"]

ADMIN = "admin"
_SEEDED = "seeded"
# The forum each network's discussions are started in.
FORUM = {
    "slug": "cooperation",
    "name": "Transnational cooperation",
    "summary": "Questions and answers about working with partners in other countries.",
}


@dataclass(frozen=True)
class DemoNetwork:
    network: Network
    instance: LoopbackInstance

    @property
    def base_url(self) -> str:
        return self.instance.base_url

    @property
    def directory(self) -> Path:
        return self.instance.directory


def _password(network: DemoNetwork, login: str) -> str:
    """The demo password of ``login`` on ``network``, made once and kept in its directory."""
    path = network.directory / f"{login}.password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    private_file(path)
    path.write_text(password + "\n")
    return password


def _set_up(network: DemoNetwork) -> dict[str, str]:
    """Migrate the network's database and add its admin and members (once); their bearer
    tokens for seeding, by login (none once the network was seeded)."""
    private_directory(network.directory)
    settings = load_settings(network.instance.environment())
    migrate.upgrade(settings.database_url)
    identity.claim_base_url(settings.database_url, settings.base_url)
    if (network.directory / _SEEDED).exists():
        return {}
    people = [(ADMIN, Role.ADMIN), *((login, Role.MEMBER) for login in network.network.members)]
    passwords = {login: _password(network, login) for login, _ in people}

    async def work(session: AsyncSession) -> dict[str, str]:
        known = {member.login for member in await members.list_members(session)}
        for login, role in people:
            if login not in known:
                await members.add_member(
                    session, settings, login, passwords[login], role, allow_reserved=True
                )
        return {login: await tokens.issue_token(session, login, "demo") for login, _ in people}

    return run_in_session(settings, work)


def _api(client: httpx.Client, token: str, method: str, path: str, body: Any) -> Any:
    response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 400:
        raise CommandError(f"{method} {path} answered {response.status_code}: {response.text}")
    return response.json() if response.content else None


def _seed(network: DemoNetwork, tokens: dict[str, str]) -> None:
    """Publish the network's offers, experiences and discussions through its JSON API, as its
    members would."""
    content = network.network
    authors = [tokens[login] for login in content.members]
    today = datetime.now(UTC).date()
    with httpx.Client(base_url=network.base_url, timeout=30) as client:
        for index, offer in enumerate(content.offer_payloads(today)):
            _api(client, authors[index % len(authors)], "POST", "/api/v1/offers", offer)
        for index, experience in enumerate(content.experiences):
            author = authors[index % len(authors)]
            _api(client, author, "POST", "/api/v1/experiences", experience)
        if content.discussions:
            _api(client, tokens[ADMIN], "POST", "/api/v1/forums", FORUM)
        for index, discussion in enumerate(content.discussions):
            starter = authors[index % len(authors)]
            fields = {key: discussion[key] for key in ("title", "body", "language")}
            path = f"/api/v1/forums/{FORUM['slug']}/threads"
            thread = _api(client, starter, "POST", path, fields)
            for number, body in enumerate(discussion["replies"]):
                answerer = authors[(index + number + 1) % len(authors)]
                reply = {"body": body, "language": discussion["language"]}
                _api(client, answerer, "POST", f"/api/v1/threads/{thread['key']}/replies", reply)
    (network.directory / _SEEDED).write_text(today.isoformat() + "\n")


def _peer(networks: list[DemoNetwork]) -> None:
    """Peer every network with the two others, as their admins would with ``fedi peer add``:
    each follows the others' network groups and reads their offers now."""

    async def peer(network: DemoNetwork) -> None:
        context = build_context(load_settings(network.instance.environment()))
        try:
            for other in networks:
                if other is network:
                    continue
                try:
                    added = await peering.add_peer(context, other.base_url)
                    await sync_peer(context, added.host)
                except (peering.PeeringError, SyncError) as exc:
                    raise CommandError(
                        f"{network.network.name} could not peer with {other.base_url}: {exc}"
                    ) from exc
        finally:
            await context.aclose()

    for network in networks:
        asyncio.run(peer(network))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_demo(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # stopped as by Ctrl-C: the networks stop too
    root: Path = args.dir
    networks = [
        DemoNetwork(
            content,
            LoopbackInstance(
                content.name, content.country, args.port + index, root / content.country.lower()
            ),
        )
        for index, content in enumerate(NETWORKS)
    ]
    taken = [str(n.instance.port) for n in networks if not port_is_free(n.instance.port)]
    if taken:
        raise CommandError(f"port {', '.join(taken)} is in use: choose others with --port")
    private_directory(root)
    print(f"setting up {len(networks)} networks in {root}", flush=True)
    prepare_search()
    tokens = {network.instance.port: _set_up(network) for network in networks}
    with serving([network.instance for network in networks]) as processes:
        for network, process in zip(networks, processes, strict=True):
            wait_ready(network.instance, process)
        for network in networks:
            if tokens[network.instance.port]:
                print(f"seeding {network.network.name}", flush=True)
                _seed(network, tokens[network.instance.port])
        print("peering the networks", flush=True)
        _peer(networks)
        print(flush=True)
        for network in networks:
            print(
                f"{network.network.name}: {network.base_url}  "
                f"(login {ADMIN}, password {_password(network, ADMIN)})",
                flush=True,
            )
        print("demo ready; Ctrl-C stops all three", flush=True)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping", flush=True)
            return 0
    stopped = [n.network.name for n, p in zip(networks, processes, strict=True) if p.returncode]
    raise CommandError(f"{', '.join(stopped) or 'a network'} stopped; see serve.log in {root}")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="run three demo networks (PL, IT, DE) on loopback",
        description="Start three national networks on this machine, seeded with "
        "partner offers and experiences in several languages and peered with each other, so "
        "that partner search on any one finds the offers of all three; print each URL "
        "and admin login. Ctrl-C stops all three. Data is kept in --dir for the next run.",
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("var/demo"), help="where the networks keep their data"
    )
    parser.add_argument(
        "--port", type=int, default=8401, help="the first network's port (default 8401)"
    )
    parser.set_defaults(handler=cmd_demo)
