"""A local inbox sink for the delivery benchmarks, run by uvicorn in its own process.

``python -m bench.sink [--delay SECONDS]`` binds 127.0.0.1 on a free port, prints the port on
one line, and answers every request with 202 after ``delay`` seconds (0 by default). A bare ASGI
callable, so that the sink costs as little CPU as possible next to the worker it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
from typing import Any

import uvicorn

__all__ = ["start_sink"]


def start_sink(delay: float = 0.0) -> tuple[subprocess.Popen[str], int]:
    """Start the sink in a child process; return it and its port. Terminate it when done."""
    child = subprocess.Popen(  # noqa: S603 - this module, fixed arguments
        [sys.executable, "-m", "bench.sink", "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.strip().isdigit():
        child.kill()
        raise RuntimeError("the sink did not start")
    return child, int(line)


def _app(delay: float) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            if not message.get("more_body"):
                break
        if delay:
            await asyncio.sleep(delay)
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sink")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        _app(args.delay), log_level="warning", access_log=False, lifespan="off", backlog=4096
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
