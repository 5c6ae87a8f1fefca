"""Run a Fedify ActivityPub peer (``interop/fedify-peer``) from a test.

    from fedi.testing.tls import make_test_ca
    from fedify_peer import FedifyPeer

    ca = make_test_ca(tmp_path / "ca")
    with FedifyPeer(ca) as peer:
        peer.follow("@network@localhost:8443")
        peer.wait_for_received(type="Accept")
        peer.create("https://localhost:8443/actors/network", "<p>hi</p>")

The first use installs the peer's node modules with ``npm ci`` (Fedify and a Node 22 binary
from the npm ``node`` package).  When npm or node is missing, or the install fails, the test
is skipped with the reason, unless ``FEDI_TEST_REQUIRE`` lists ``interop``, in which case it fails.

The peer trusts the given test CA (``NODE_EXTRA_CA_CERTS``) and serves its own HTTPS with the
CA's ``localhost`` leaf certificate, so a server under test that trusts the same CA can reach
it too.  Its stderr (Fedify's logs) is kept in :attr:`FedifyPeer.log_path` and printed when
the ``with`` block raises.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from fedi.testing.requirements import skip_or_fail
from fedi.testing.tls import TestCA

REPO_ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = REPO_ROOT / "interop" / "fedify-peer"
NODE_MODULES = PEER_DIR / "node_modules"
PEER_NODE = NODE_MODULES / ".bin" / "node"
_STAMP = NODE_MODULES / ".fedi-install-stamp"
REQUIRED_NODE_MAJOR = 22

_installed: str | None = None  # the node version, once checked in this process
_install_failure: str | None = None  # why the peer cannot run, once found in this process
_install_lock = threading.Lock()


def _unavailable(reason: str) -> None:
    """Skip the test, or fail it when FEDI_TEST_REQUIRE lists ``interop`` (as CI does)."""
    global _install_failure
    _install_failure = reason
    skip_or_fail("interop", f"the Fedify peer cannot run: {reason}")


def _lock_digest() -> str:
    data = (PEER_DIR / "package-lock.json").read_bytes() + (PEER_DIR / "package.json").read_bytes()
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _file_lock() -> Iterator[None]:
    """Serialize installs across processes (pytest-xdist workers, parallel runs)."""
    key = hashlib.sha256(str(PEER_DIR).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"fedi-fedify-peer-{key}.lock"
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _node_version() -> str | None:
    try:
        out = subprocess.run(
            [str(PEER_NODE), "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def ensure_installed() -> str:
    """Make sure ``interop/fedify-peer/node_modules`` matches the lock file; return node's version.

    Skips the calling test when that cannot be done (fails when FEDI_TEST_REQUIRE lists interop).
    """
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed
        if _install_failure is not None:
            _unavailable(_install_failure)
        with _file_lock():
            digest = _lock_digest()
            up_to_date = _STAMP.is_file() and _STAMP.read_text().strip() == digest
            if not up_to_date or _node_version() is None:
                npm = shutil.which("npm")
                if npm is None:
                    _unavailable("npm is not on PATH (install Node.js and npm)")
                if shutil.which("node") is None:
                    _unavailable("node is not on PATH (npm needs it to install the peer)")
                started = time.monotonic()
                try:
                    proc = subprocess.run(
                        [npm or "npm", "ci", "--no-audit", "--no-fund"],
                        cwd=PEER_DIR,
                        capture_output=True,
                        text=True,
                        timeout=900,
                    )
                except subprocess.TimeoutExpired:
                    _unavailable(f"`npm ci` in {PEER_DIR} timed out")
                if proc.returncode != 0:
                    _unavailable(
                        f"`npm ci` in {PEER_DIR} failed (exit {proc.returncode}):\n"
                        + _tail(proc.stdout + "\n" + proc.stderr)
                    )
                print(
                    f"fedify-peer: npm ci took {time.monotonic() - started:.1f}s",
                    file=sys.stderr,
                )
                _STAMP.write_text(digest + "\n")
            version = _node_version()
            if version is None:
                _unavailable(
                    f"{PEER_NODE} is missing or does not run (the npm `node` package installs "
                    "it with a preinstall script; were install scripts disabled?)"
                )
            assert version is not None
            major = version.lstrip("v").split(".", 1)[0]
            if major != str(REQUIRED_NODE_MAJOR):
                _unavailable(f"{PEER_NODE} is {version}, Fedify 2.x needs Node 22")
            _installed = version
            return version


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeerError(AssertionError):
    """A control call to the peer failed; the message carries the peer's answer."""


class FedifyPeer:
    """A running Fedify peer with one actor, ``alice``, driven over ``/_control/``.

    Deliveries are synchronous in the peer: :meth:`follow` and :meth:`create` return once the
    remote inbox has answered (a failed delivery raises :class:`PeerError`).  Activities the
    remote sends back (an ``Accept``, say) may arrive later: use :meth:`wait_for_received` or
    :meth:`wait_for_following`.
    """

    def __init__(
        self,
        ca: TestCA,
        *,
        port: int | None = None,
        first_knock: str = "rfc9421",
        inbox_rejects_rfc9421: bool = False,
        actor_type: str = "Person",
        log_level: str = "info",
        startup_timeout: float = 60.0,
        request_timeout: float = 60.0,
    ) -> None:
        self.ca = ca
        self.port = port or free_port()
        self.domain = f"localhost:{self.port}"
        self.base_url = f"https://{self.domain}"
        self.actor_uri = f"{self.base_url}/users/alice"
        self.inbox_uri = f"{self.actor_uri}/inbox"
        self.shared_inbox_uri = f"{self.base_url}/inbox"
        self.handle = f"@alice@{self.domain}"
        self.first_knock = first_knock
        self.inbox_rejects_rfc9421 = inbox_rejects_rfc9421
        self.actor_type = actor_type
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.node_version: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._client: httpx.Client | None = None
        self._logdir: tempfile.TemporaryDirectory[str] | None = None
        self.log_path: Path | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> FedifyPeer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            print(f"--- fedify peer {self.domain} log ---\n{self.logs()}", file=sys.stderr)
        self.stop()

    def start(self) -> None:
        self.node_version = ensure_installed()
        self._logdir = tempfile.TemporaryDirectory(prefix="fedify-peer-")
        self.log_path = Path(self._logdir.name) / "peer.log"
        env = dict(os.environ)
        env["NODE_EXTRA_CA_CERTS"] = str(self.ca.ca_cert_path)
        env.pop("NODE_OPTIONS", None)
        cmd = [
            str(PEER_NODE),
            "peer.mjs",
            "--port",
            str(self.port),
            "--cert",
            str(self.ca.cert_path),
            "--key",
            str(self.ca.key_path),
            "--domain",
            self.domain,
            "--first-knock",
            self.first_knock,
            "--log-level",
            self.log_level,
            "--actor-type",
            self.actor_type,
        ]
        if self.inbox_rejects_rfc9421:
            cmd.append("--inbox-rejects-rfc9421")
        with self.log_path.open("w") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=PEER_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # its own process group, killed as a whole in stop()
            )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream: Any) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        assert self._proc.stdout is not None
        threading.Thread(target=pump, args=(self._proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise RuntimeError(
                    f"Fedify peer did not print READY within {self.startup_timeout}s:\n"
                    + _tail(self.logs())
                )
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                code = self._proc.wait()
                log_text = self.logs()
                self.stop()
                raise RuntimeError(
                    f"Fedify peer exited with {code} before READY:\n{_tail(log_text)}"
                )
            if line.strip() == f"READY {self.port}":
                break
        context = ssl.create_default_context(cafile=str(self.ca.ca_cert_path))
        self._client = httpx.Client(
            base_url=self.base_url, verify=context, timeout=self.request_timeout
        )

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    def logs(self) -> str:
        """The peer's stderr so far (Fedify's log lines and the peer's own)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    # -- control -------------------------------------------------------------------------------

    def _call(self, method: str, action: str, body: dict[str, Any] | None = None) -> Any:
        if self._client is None:
            raise RuntimeError("the Fedify peer is not running")
        response = self._client.request(method, f"/_control/{action}", json=body)
        if response.status_code != 200:
            raise PeerError(
                f"peer {method} /_control/{action} {json.dumps(body)} -> "
                f"{response.status_code}: {response.text}\n--- peer log ---\n{_tail(self.logs())}"
            )
        return response.json()

    def follow(self, handle: str) -> dict[str, Any]:
        """alice looks ``handle`` (``@user@host`` or an actor URI) up and sends it a Follow.

        Returns ``{"id", "target", "targetType", "inbox"}``.
        """
        result: dict[str, Any] = self._call("POST", "follow", {"handle": handle})
        return result

    def unfollow(self, handle: str) -> dict[str, Any]:
        """alice sends ``Undo(Follow)`` to ``handle``."""
        result: dict[str, Any] = self._call("POST", "unfollow", {"handle": handle})
        return result

    def create(self, to: str, content: str = "<p>hi</p>") -> dict[str, Any]:
        """alice sends ``Create(Note)`` to the actor ``to`` (URI or handle), addressed to it and
        to the public.  Returns ``{"id", "object", "inbox"}``; the Note is dereferenceable."""
        result: dict[str, Any] = self._call("POST", "create", {"to": to, "content": content})
        return result

    def reply(self, in_reply_to: str, group: str, content: str = "<p>hi</p>") -> dict[str, Any]:
        """alice sends a reply in a forum thread: ``Create(Note)`` with ``inReplyTo``, to the
        ``group`` (URI or handle) and the public, ``audience`` the group, delivered to the
        group.  Returns ``{"id", "object", "inbox"}``."""
        body = {"inReplyTo": in_reply_to, "group": group, "content": content}
        result: dict[str, Any] = self._call("POST", "reply", body)
        return result

    def received(self) -> list[dict[str, Any]]:
        """Every activity alice's inboxes accepted, signature verified, oldest first.

        Each entry has ``type``, ``id``, ``actor``, ``object`` (as sent: IRI or embedded),
        ``objectId``, ``objectType``, ``signature`` (``"rfc9421"``, ``"draft-cavage"`` or None:
        which HTTP signature the accepted request carried), ``headers``, ``json`` (the raw
        body) and ``inbox`` (the path it was posted to).
        """
        result: list[dict[str, Any]] = self._call("GET", "received")
        return result

    def following(self) -> list[dict[str, Any]]:
        """Accepts of alice's follows: ``{"actor", "follow", "target", "accept"}`` each."""
        result: list[dict[str, Any]] = self._call("GET", "following")
        return result

    def followers(self) -> list[str]:
        """Actor IRIs following alice (whose Follow alice accepted)."""
        result: list[str] = self._call("GET", "followers")
        return result

    def reset(self) -> None:
        """Forget what was received and accepted so far."""
        self._call("POST", "reset", {})

    # -- waiting -------------------------------------------------------------------------------

    def wait_for_received(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        type: str | None = None,
        timeout: float = 15.0,
    ) -> dict[str, Any]:
        """Wait until an activity matching ``type`` and ``predicate`` was received; return it."""

        def matches(entry: dict[str, Any]) -> bool:
            if type is not None and entry.get("type") != type:
                return False
            return predicate is None or predicate(entry)

        deadline = time.monotonic() + timeout
        while True:
            for entry in self.received():
                if matches(entry):
                    return entry
            if time.monotonic() >= deadline:
                seen = [(e.get("type"), e.get("id")) for e in self.received()]
                raise AssertionError(
                    f"peer {self.domain} received no matching activity (type={type}) within "
                    f"{timeout}s; it received {seen}\n--- peer log ---\n{_tail(self.logs())}"
                )
            time.sleep(0.2)

    def wait_for_following(self, actor: str, *, timeout: float = 15.0) -> dict[str, Any]:
        """Wait until ``actor`` (IRI) accepted one of alice's follows; return the record."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.following():
                if actor in (entry.get("actor"), entry.get("target")):
                    return entry
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{actor} did not accept alice's follow within {timeout}s; "
                    f"following={self.following()}\n--- peer log ---\n{_tail(self.logs())}"
                )
            time.sleep(0.2)
