"""``python -m bench`` (``make bench``): run every benchmark and print one line per result.

Each benchmark module has a ``main()`` returning its lines. ``bench/inbox.py`` is run too when it
exists (written separately).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

__all__ = ["main"]

BENCHMARKS = ("bench.fanout", "bench.distant_peer", "bench.inbox")


def main() -> None:
    for name in BENCHMARKS:
        if importlib.util.find_spec(name) is None:
            print(f"{name}: not present, skipped")
            continue
        run: Callable[[], list[str]] = importlib.import_module(name).main
        for line in run():
            print(line, flush=True)


if __name__ == "__main__":
    main()
