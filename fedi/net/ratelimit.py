"""Per-host limits kept in the memory of one process: a token bucket, and concurrent fetch slots.

Used for key re-fetches: a peer that rotates its key sends several activities at once, and each may
fail against the cached key, so a small burst must be allowed; a forger naming a real key id must
not make us fetch from its host more than a few times a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["FetchSlots", "HostRateLimiter"]


@dataclass
class HostRateLimiter:
    capacity: int = 5
    refill_every: timedelta = timedelta(seconds=12)
    _buckets: dict[str, tuple[float, datetime]] = field(default_factory=dict, repr=False)

    def allow(self, host: str, now: datetime) -> bool:
        """Take one token for ``host`` at ``now``; False when its bucket is empty."""
        tokens, since = self._buckets.get(host, (float(self.capacity), now))
        refilled = min(self.capacity, tokens + (now - since) / self.refill_every)
        if refilled < 1:
            self._buckets[host] = (refilled, now)
            return False
        self._buckets[host] = (refilled - 1, now)
        return True


@dataclass
class FetchSlots:
    """Concurrent first-contact key fetches: at most ``per_host`` to one host and ``total`` in
    all, in one process. A request that finds no free slot is answered at once (503 with
    ``Retry-After``), never queued: a slow key server must not hold requests, connections or
    memory while it stalls, and a sender retries a 503 later."""

    per_host: int = 2
    total: int = 8
    _busy: dict[str, int] = field(default_factory=dict, repr=False)

    def acquire(self, host: str) -> bool:
        """Take a slot for ``host``; False when the host or the whole instance is at its bound."""
        if sum(self._busy.values()) >= self.total or self._busy.get(host, 0) >= self.per_host:
            return False
        self._busy[host] = self._busy.get(host, 0) + 1
        return True

    def release(self, host: str) -> None:
        left = self._busy.get(host, 0) - 1
        if left > 0:
            self._busy[host] = left
        else:
            self._busy.pop(host, None)
