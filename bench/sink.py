"""A local inbox sink for the delivery benchmarks, in its own process.

``python -m bench.sink [--delay SECONDS]`` binds 127.0.0.1 on a free port, prints the port on
one line, and answers every request with ``202 Accepted`` (empty body, keep-alive) ``delay``
seconds (0 by default) after it was read in full. It is a bare asyncio protocol on uvloop with
httptools' parser (the parser uvicorn uses): each request is parsed to its end, body included,
and nothing else is done, so that the sink takes as little CPU as it can from the worker it
measures on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys

import httptools
import uvloop

__all__ = ["start_sink"]

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


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


class _Inbox(asyncio.Protocol):
    """One connection: parse requests, answer each once its body has been read."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a TCP transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    def on_message_complete(self) -> None:
        if self._delay:
            asyncio.get_running_loop().call_later(self._delay, self._answer)
        else:
            self._answer()

    def _answer(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_ACCEPTED)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def _serve(sock: socket.socket, delay: float) -> None:
    server = await asyncio.get_running_loop().create_server(
        lambda: _Inbox(delay), sock=sock, backlog=4096
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sink")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    uvloop.run(_serve(sock, args.delay))


if __name__ == "__main__":
    main()
