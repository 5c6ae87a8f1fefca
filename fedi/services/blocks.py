"""Domain blocks, as admins manage them (the inbox and the outbox apply them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import BlockSeverity, DomainBlock
from fedi.errors import NotFoundError, ValidationError
from fedi.net.errors import BadUrl
from fedi.net.urls import normalize_host

__all__ = ["add_block", "list_blocks", "parse_severity", "remove_block"]


def parse_severity(value: str) -> BlockSeverity:
    try:
        return BlockSeverity(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown severity {value!r}: use {' or '.join(s.value for s in BlockSeverity)}"
        ) from None


def _domain(value: str) -> str:
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
    name = _domain(domain)
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == name))
    if block is None:
        block = DomainBlock(domain=name, severity=severity, reason=reason)
        session.add(block)
    else:
        block.severity, block.reason = severity, reason
    await session.flush()
    return block


async def remove_block(session: AsyncSession, domain: str) -> None:
    name = _domain(domain)
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == name))
    if block is None:
        raise NotFoundError(f"{name} is not blocked")
    await session.delete(block)


async def list_blocks(session: AsyncSession) -> list[DomainBlock]:
    return list((await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))).all())
