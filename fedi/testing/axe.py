"""axe-core in the browser tests: installed from the npm registry on first use, run in a page.

The version is pinned by ``tests/browser/axe/package-lock.json``; ``npm ci`` installs it into
that folder's ``node_modules`` (ignored by git). Without npm, or when the install fails, the
calling test is skipped, or fails when ``browser`` is listed in ``FEDI_TEST_REQUIRE``.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedi.testing.requirements import skip_or_fail

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = ["AXE_DIR", "axe_source", "serious_violations"]

AXE_DIR = Path(__file__).resolve().parents[2] / "tests" / "browser" / "axe"
_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
_lock = threading.Lock()
_source: list[str] = []


@contextmanager
def _install_lock() -> Iterator[None]:
    """One install at a time, across threads and across processes (the suite's workers)."""
    key = hashlib.sha256(str(AXE_DIR).encode()).hexdigest()[:16]
    with _lock, (Path(tempfile.gettempdir()) / f"fedi-axe-{key}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def axe_source() -> str:
    """The text of ``axe.min.js``, installing it with ``npm ci`` when it is missing."""
    with _install_lock():
        if _source:
            return _source[0]
        if not _SCRIPT.is_file():
            npm = shutil.which("npm")
            if npm is None:
                skip_or_fail("browser", "npm is not on PATH: it installs axe-core for the tests")
            try:
                subprocess.run(  # noqa: S603 - npm found on PATH, fixed arguments
                    [npm or "npm", "ci", "--no-audit", "--no-fund"],
                    cwd=AXE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
            except (subprocess.SubprocessError, OSError) as error:
                skip_or_fail("browser", f"`npm ci` in {AXE_DIR} failed: {error}")
        _source.append(_SCRIPT.read_text(encoding="utf-8"))
        return _source[0]


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as it is now (every rule axe runs
    by default: WCAG 2.x A and AA, and its best practices). axe needs JavaScript on in the
    page's context, and ``bypass_csp`` when the pages forbid ``eval``: open the page with
    ``Chromium.new_page(javascript=True, bypass_csp=True)``."""
    results: dict[str, Any] = await page.evaluate(
        "async (source) => { (0, eval)(source);"
        " return await axe.run(document, {resultTypes: ['violations']}); }",
        axe_source(),
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
