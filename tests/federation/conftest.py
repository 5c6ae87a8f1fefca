"""Fixtures shared by the federation tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedi.settings import Settings
from fedi.testing.peers import FakePeers, InboxHarness, alice, bob, carol, inbox_harness, mallory


@pytest.fixture
async def h(settings: Settings) -> AsyncIterator[InboxHarness]:
    """One local instance reached in-process, with the fake peers alice, bob, carol, mallory."""
    peers = FakePeers()
    peers.add(alice(), bob(), carol(), mallory())
    harness = await inbox_harness(settings, peers)
    try:
        yield harness
    finally:
        await harness.aclose()
