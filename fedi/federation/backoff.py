"""The delivery state machine: given one attempt's outcome, what happens to the delivery next.

Pure: no I/O, the time is an argument and randomness (jitter) is injected, so every transition is
tested with a fixed clock (STYLE.md 5). :func:`next_state` is the only handler; the worker in
:mod:`fedi.federation.delivery` writes whatever it returns.

Policy (SECURITY.md "Delivery and processing"): a 2xx is delivered; 5xx, 401, 408, 429 and
transport errors are retried with exponential backoff and jitter (doubling from 30 s, capped at
12 h), ``Retry-After`` is honoured up to 6 h; any other 4xx, a 3xx (redirects are not followed for
POSTs) and 410 Gone fail at once, as does running out of attempts (16).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "Attempt",
    "Delivered",
    "Failed",
    "Retry",
    "RetryPolicy",
    "Transition",
    "backoff_delay",
    "next_state",
]

# 401: the peer may not have fetched our (new) key yet, or our clocks disagree for a moment;
# Mastodon and Fedify both retry it. 408 and 429 are explicitly temporary.
_RETRYABLE_4XX = frozenset({401, 408, 429})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long a delivery is retried. The defaults follow SECURITY.md."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=12)
    max_attempts: int = 16
    retry_after_cap: timedelta = timedelta(hours=6)
    # Each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter] (then capped).
    jitter: float = 0.2


@dataclass(frozen=True)
class Attempt:
    """What one attempt produced: an HTTP ``status`` (``None`` when no answer came back),
    ``Retry-After`` in seconds if the peer sent one, and a short ``error`` for transport failures.
    ``permanent`` marks a transport failure that cannot get better by waiting (a refused URL or
    address).
    """

    status: int | None
    retry_after: float | None = None
    error: str | None = None
    permanent: bool = False


@dataclass(frozen=True)
class Delivered:
    """The peer accepted the activity."""


@dataclass(frozen=True)
class Retry:
    """Try again at ``at`` (UTC); ``reason`` says why this attempt did not count."""

    at: datetime
    reason: str


@dataclass(frozen=True)
class Failed:
    """Give up for good; ``reason`` says why."""

    reason: str


Transition = Delivered | Retry | Failed


def backoff_delay(
    attempts: int,
    policy: RetryPolicy,
    uniform: Callable[[float, float], float] = random.uniform,
) -> timedelta:
    """The delay after the ``attempts``-th failed attempt (1-based): ``base * 2**(attempts-1)``,
    times a jitter factor drawn from ``uniform(1 - jitter, 1 + jitter)``, never above ``cap``.
    """
    exponent = max(0, attempts - 1)
    # Past ~40 doublings the float would only overflow; the cap has long applied by then.
    nominal = policy.base.total_seconds() * 2.0 ** min(exponent, 40)
    factor = uniform(1.0 - policy.jitter, 1.0 + policy.jitter)
    return min(timedelta(seconds=nominal * factor), policy.cap)


def _reason(attempt: Attempt) -> str:
    if attempt.status is None:
        return attempt.error or "transport error"
    return f"http {attempt.status}"


def next_state(
    attempt: Attempt,
    attempts: int,
    now: datetime,
    policy: RetryPolicy,
    *,
    peer_available: bool = True,
    uniform: Callable[[float, float], float] = random.uniform,
) -> Transition:
    """The next state of a delivery whose ``attempts``-th attempt (counting this one) gave
    ``attempt`` at ``now``.

    When the peer has been marked unavailable (failing for days), retries wait the full ``cap``
    instead of the growing delay; they still count towards ``max_attempts``.
    """
    status = attempt.status
    if status is not None and 200 <= status < 300:
        return Delivered()
    if attempt.permanent:
        return Failed(_reason(attempt))
    if status is not None:
        if status == 410:
            return Failed("http 410 gone")
        if 300 <= status < 500 and status not in _RETRYABLE_4XX:
            return Failed(_reason(attempt))
    if attempts >= policy.max_attempts:
        return Failed(f"{_reason(attempt)}, out of attempts ({attempts})")
    if attempt.retry_after is not None:
        # The peer said when; believe it, within reason (a day-long Retry-After is ignored down to
        # the cap, a zero one still waits a second).
        seconds = min(max(attempt.retry_after, 1.0), policy.retry_after_cap.total_seconds())
        delay = timedelta(seconds=seconds)
    elif not peer_available:
        delay = policy.cap
    else:
        delay = backoff_delay(attempts, policy, uniform)
    return Retry(now + delay, _reason(attempt))
