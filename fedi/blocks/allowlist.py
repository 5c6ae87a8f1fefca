"""Allowlist-only federation: when the mode is on, the instance talks only to the domains on its
allowlist (and their subdomains); the inbox refuses the others and nothing is sent to them.

The mode is a single ``federation_mode`` row (none: off). Domains are normalised as domain
blocks are (:func:`fedi.blocks.service.normalise_domain`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks.service import block_candidates, normalise_domain
from fedi.db.models import AllowedDomain, FederationMode, utcnow
from fedi.errors import NotFoundError
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = [
    "add_allowed",
    "allowlist_only",
    "list_allowed",
    "remove_allowed",
    "set_allowlist_only",
    "split_by_allowlist",
]

_MODE_ROW = 1


async def allowlist_only(session: AsyncSession) -> bool:
    """Whether the instance federates only with the domains on its allowlist."""
    return bool(
        await session.scalar(
            select(FederationMode.allowlist_only).where(FederationMode.id == _MODE_ROW)
        )
    )


async def set_allowlist_only(session: AsyncSession, on: bool) -> None:
    mode = await session.get(FederationMode, _MODE_ROW)
    if mode is None:
        session.add(FederationMode(id=_MODE_ROW, allowlist_only=on, changed_at=utcnow()))
    elif mode.allowlist_only != on:
        mode.allowlist_only, mode.changed_at = on, utcnow()
    await session.flush()


async def add_allowed(session: AsyncSession, domain: str) -> AllowedDomain:
    """Put ``domain`` (and so its subdomains) on the allowlist; adding it again changes nothing."""
    name = normalise_domain(domain)
    entry = await session.scalar(select(AllowedDomain).where(AllowedDomain.domain == name))
    if entry is None:
        entry = AllowedDomain(domain=name)
        session.add(entry)
        await session.flush()
    return entry


async def remove_allowed(session: AsyncSession, domain: str) -> None:
    name = normalise_domain(domain)
    entry = await session.scalar(select(AllowedDomain).where(AllowedDomain.domain == name))
    if entry is None:
        raise NotFoundError(f"{name} is not on the allowlist")
    await session.delete(entry)
    await session.flush()


async def list_allowed(session: AsyncSession) -> list[AllowedDomain]:
    return list((await session.scalars(select(AllowedDomain).order_by(AllowedDomain.domain))).all())


async def split_by_allowlist(session: AsyncSession, urls: list[str]) -> tuple[list[str], list[str]]:
    """``urls`` as (those that may be sent to, those the allowlist refuses); all may be sent to
    when the mode is off. A URL whose host cannot be read is kept: the delivery queue reports it.
    """
    if not urls or not await allowlist_only(session):
        return urls, []
    allowed = set((await session.scalars(select(AllowedDomain.domain))).all())
    kept: list[str] = []
    refused: list[str] = []
    for url in urls:
        try:
            host = host_of(url)
        except BadUrl:
            kept.append(url)
            continue
        (refused if allowed.isdisjoint(block_candidates(host)) else kept).append(url)
    return kept, refused
