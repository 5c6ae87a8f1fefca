"""Domain blocks: as admins manage them, and as the inbox, the fetchers and the outbox apply them
(SECURITY.md rule 22).

A block on ``example.com`` covers its subdomains too (``media.example.com``), as in Mastodon.
Only ``suspend`` blocks refuse traffic; ``silence`` ones accept it and act on visibility.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import BlockSeverity, DomainBlock
from fedi.errors import NotFoundError, ValidationError
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of, normalize_host

__all__ = ["add_block", "list_blocks", "normalise_domain", "parse_severity", "remove_block"]


def parse_severity(value: str) -> BlockSeverity:
    try:
        return BlockSeverity(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown severity {value!r}: use {' or '.join(s.value for s in BlockSeverity)}"
        ) from None


def normalise_domain(value: str) -> str:
    """A normalised domain, keeping a ``:port`` (instances on a non-default port are told apart)."""
    text = value.strip()
    name, colon, port = text.rpartition(":")
    bare_ipv6 = ":" in name and not name.endswith("]")
    if not (colon and port.isdigit() and name) or bare_ipv6:
        name, port = text, ""
    try:
        host = normalize_host(name)
    except BadUrl as exc:
        raise ValidationError(f"{value!r} is not a domain name: {exc}") from exc
    return f"{host}:{port}" if port else host


async def add_block(
    session: AsyncSession, domain: str, severity: BlockSeverity, reason: str = ""
) -> DomainBlock:
    """Block ``domain`` and its subdomains; blocking it again updates severity and reason."""
    name = normalise_domain(domain)
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == name))
    if block is None:
        block = DomainBlock(domain=name, severity=severity, reason=reason)
        session.add(block)
    else:
        block.severity, block.reason = severity, reason
    await session.flush()
    return block


async def remove_block(session: AsyncSession, domain: str) -> None:
    name = normalise_domain(domain)
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == name))
    if block is None:
        raise NotFoundError(f"{name} is not blocked")
    await session.delete(block)


async def list_blocks(session: AsyncSession) -> list[DomainBlock]:
    return list((await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))).all())


__all__ = ["block_candidates", "domain_blocked", "without_blocked"]


def block_candidates(host: str) -> list[str]:
    """``host`` (with and without its port) and every parent domain, most specific first.

    ``a.b.example.com:8443`` → ``a.b.example.com:8443``, ``a.b.example.com``, ``b.example.com``,
    ``example.com``, ``com``. IP literals give only themselves.
    """
    name = host.lower()
    candidates = [name]
    if name.startswith("["):  # IPv6 literal, maybe with a port
        bare = name.split("]", 1)[0] + "]"
        return candidates if bare == name else [name, bare]
    bare, _, _port = name.partition(":")
    if bare != name:
        candidates.append(bare)
    labels = bare.split(".")
    candidates.extend(".".join(labels[index:]) for index in range(1, len(labels)))
    return candidates


async def domain_blocked(session: AsyncSession, host: str) -> bool:
    """Whether a ``suspend`` block covers ``host`` (a normalised ``host[:port]``)."""
    found = await session.scalar(
        select(DomainBlock.id)
        .where(
            DomainBlock.domain.in_(block_candidates(host)),
            DomainBlock.severity == BlockSeverity.SUSPEND,
        )
        .limit(1)
    )
    return found is not None


async def without_blocked(session: AsyncSession, urls: list[str]) -> list[str]:
    """``urls`` less those on a suspended domain, with one query however many there are.

    A URL whose host cannot be read is kept: the delivery queue reports it.
    """
    suspended = set(
        (
            await session.scalars(
                select(DomainBlock.domain).where(DomainBlock.severity == BlockSeverity.SUSPEND)
            )
        ).all()
    )
    if not suspended:
        return urls
    kept = []
    for url in urls:
        try:
            host = host_of(url)
        except BadUrl:
            kept.append(url)
            continue
        if suspended.isdisjoint(block_candidates(host)):
            kept.append(url)
    return kept
