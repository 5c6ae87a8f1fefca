"""Instances on this machine's loopback, each a ``fedi serve`` process of its own with its own
data directory and SQLite database: the networks of ``fedi demo`` and of the convergence
benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from fedi.cli.common import CommandError

__all__ = ["START_TIMEOUT", "LoopbackInstance", "port_is_free", "serving", "wait_ready"]

# How long an instance may take to answer its health check after it was started.
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LoopbackInstance:
    name: str
    country: str
    port: int
    directory: Path

    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.port}"

    def environment(self) -> dict[str, str]:
        """This instance's settings, over the caller's environment without its ``FEDI_*``."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("FEDI_")}
        env.update(
            FEDI_BASE_URL=self.base_url,
            FEDI_HOST="127.0.0.1",
            FEDI_PORT=str(self.port),
            FEDI_DATA_DIR=str(self.directory),
            FEDI_COUNTRY=self.country,
            FEDI_INSTANCE_NAME=self.name,
            FEDI_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
            FEDI_LOG_LEVEL="warning",
        )
        return env


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port``: connections of an earlier run waiting out their close
    (TIME_WAIT) do not count, as the server binds it with SO_REUSEADDR too."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def serving(instances: Sequence[LoopbackInstance]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Each instance's ``fedi serve`` (its output in ``serve.log`` in its directory), stopped
    (SIGTERM, then SIGKILL) when the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for instance in instances:
            with (instance.directory / "serve.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "fedi", "serve"],
                        env=instance.environment(),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(
    instance: LoopbackInstance, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> None:
    """Wait until ``instance`` answers its readiness check; a clear error if it stopped or did
    not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{instance.name} stopped while starting")
        try:
            if httpx.get(f"{instance.base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise CommandError(f"{instance.name} did not answer within {timeout:.0f} s")
