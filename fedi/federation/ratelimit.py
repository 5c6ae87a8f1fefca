"""A token bucket per key (a remote host), kept in the memory of one process.

Used for key re-fetches: a peer that rotates its key sends several activities at once, and each may
fail against the cached key, so a small burst must be allowed; a forger naming a real key id must
not make us fetch from its host more than a few times a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["HostRateLimiter"]


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
