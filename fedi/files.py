"""Files that only the instance's own user may read: the data directory (0700), the SQLite
database and the secret key (0600). Every local actor's private key and every password hash is
in the database, so group and other access is taken away on creation, and at start from what
an earlier release (or an operator's copy) left readable."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from fedi.log import log_event

__all__ = ["private_directory", "private_file", "restrict"]

_logger = logging.getLogger("fedi.files")


def restrict(path: Path, allowed: int) -> None:
    """Take from ``path``, if it exists, every permission bit outside ``allowed``; log it."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~allowed:
        path.chmod(current & allowed)
        log_event(
            _logger,
            f"permissions of {path} tightened from {current:04o} to {current & allowed:04o}",
            logging.WARNING,
            path=str(path),
            was=f"{current:04o}",
            now=f"{current & allowed:04o}",
        )


def private_directory(path: Path) -> None:
    """Make ``path`` (and missing parents) a directory only its owner can enter (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    restrict(path, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing, readable and writable by its owner alone (0600)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        restrict(path, 0o600)
