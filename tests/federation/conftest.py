"""Fixtures shared by the federation tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fedi.settings import Settings
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance
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


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[RunningInstance, RunningInstance]]:
    """Two real instances, PL and IT, each with its own database of ``backend``."""
    with (
        temporary_database(backend, tmp_path) as url_pl,
        temporary_database(backend, tmp_path) as url_it,
        running_instance(tmp_path / "pl", url_pl, country="PL") as pl,
        running_instance(tmp_path / "it", url_it, country="IT") as it,
    ):
        yield pl, it
