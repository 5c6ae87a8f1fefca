"""Run an ASGI app with a real uvicorn server on a free loopback port, in a background thread.

For tests that need real sockets (the safe client's caps and deadlines, federation between real
instances). Not for production.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

__all__ = ["run_server"]


@contextlib.contextmanager
def run_server(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    sock: socket.socket | None = None,
    ssl_certfile: str | Path | None = None,
    ssl_keyfile: str | Path | None = None,
    startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Serve ``app`` on ``host`` at a port chosen by the kernel; yield its base URL.

    ``sock`` serves on an already bound socket instead (to restart a server on the same
    address); the caller keeps it, and it is not closed on exit.

    The base URL has no trailing slash (``http://127.0.0.1:PORT``, or ``https://`` when a
    certificate is given). The socket is bound before the thread starts, so there is no race for
    the port; the context waits until uvicorn reports ``started`` (and has run the app's lifespan
    start-up), and on exit asks it to stop and joins the thread. uvicorn installs no signal
    handlers outside the main thread, so the test runner's own handlers stay in place.
    """
    owned = sock is None
    if sock is None:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
    family = sock.family
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="auto",
        ssl_certfile=str(ssl_certfile) if ssl_certfile is not None else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile is not None else None,
        timeout_graceful_shutdown=2,
        proxy_headers=False,  # as `fedi serve`: the app applies FEDI_TRUSTED_PROXIES itself
    )
    server = uvicorn.Server(config)
    # uvicorn closes the sockets it serves on when it stops: hand it a duplicate, so that a
    # caller's socket outlives this server and can serve the next one.
    listening = sock.dup()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[listening])
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError("uvicorn stopped during start-up") from (
                    failure[0] if failure else None
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {startup_timeout} s")
            time.sleep(0.01)
        scheme = "https" if ssl_certfile is not None else "http"
        shown_host = f"[{host}]" if family == socket.AF_INET6 else host
        yield f"{scheme}://{shown_host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        listening.close()
        if owned:
            sock.close()
