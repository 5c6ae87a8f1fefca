"""``python -m bench`` (``make bench``): run every benchmark and print one line per result.

Each benchmark module has a ``main()`` returning its lines; each line states its ratio against a
baseline measured in the same run (see docs/benchmarks.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["main"]

BENCHMARKS = (
    "bench.fanout",
    "bench.distant_peer",
    "bench.inbox",
    "bench.search",
    "bench.convergence",
    "bench.pages",
)


def main() -> None:
    for name in BENCHMARKS:
        run: Callable[[], list[str]] = importlib.import_module(name).main
        for line in run():
            print(line, flush=True)


if __name__ == "__main__":
    main()
