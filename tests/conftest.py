"""Fixtures shared by the whole suite: settings, and a database on each backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.search.text import prepare_dictionaries
from fedi.settings import Settings, load_settings
from fedi.testing.databases import BACKENDS, migrated_database, postgres_url, temporary_database
from fedi.testing.requirements import required_parts, skip_or_fail

_passed_by_backend: Counter[str] = Counter()
_ran_by_backend: Counter[str] = Counter()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test that uses a database runs once on SQLite and once on PostgreSQL."""
    name: str = request.param
    if name == "postgresql" and postgres_url() is None:
        skip_or_fail("postgres", "set FEDI_TEST_POSTGRES_URL to run the PostgreSQL variant")
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the current backend, removed after the test."""
    with temporary_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of the current backend at the newest migration (a copy of a template that
    this process migrated once), removed after the test."""
    with migrated_database(backend, tmp_path) as url:
        yield url


def make_settings(data_dir: Path, database_url: str, **overrides: str) -> Settings:
    environ = {
        "FEDI_DATA_DIR": str(data_dir),
        "FEDI_DATABASE_URL": database_url,
        "FEDI_BASE_URL": "https://esf.test",
        "FEDI_INSTANCE_NAME": "ESF test network",
        "FEDI_COUNTRY": "PL",
        **overrides,
    }
    return load_settings(environ)


@pytest.fixture
def settings(tmp_path: Path, migrated_url: str) -> Settings:
    return make_settings(tmp_path / "var", migrated_url)


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = make_async_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    # The search dictionaries are built once per machine (about a minute), before any test
    # starts a server whose first request would otherwise wait for them. In the process that
    # runs first (pytest-xdist's controller), so that its workers find them ready.
    prepare_dictionaries()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Each report carries its backend, so that the counts below also work when the tests run
    # in worker processes (pytest-xdist) and only their reports reach this one.
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    backend_name = callspec.params.get("backend") if callspec is not None else None
    if backend_name:
        report.user_properties = [*report.user_properties, ("backend", backend_name)]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend_name = dict(report.user_properties).get("backend")
    if backend_name and report.when == "setup":
        _ran_by_backend[backend_name] += 1
    if backend_name and report.when == "call" and report.passed:
        _passed_by_backend[backend_name] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _passed_by_backend:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(_passed_by_backend.items()))
        terminalreporter.write_line(f"database tests passed per backend: {counts}")
    # Written by tests/browser; said here, in the process that reports (not in its workers).
    folder = Path(__file__).resolve().parents[1] / ".artifacts" / "screenshots"
    if folder.is_dir() and any(folder.glob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {folder}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A required PostgreSQL run that ran no PostgreSQL test at all is a failure, not a green run.
    if (
        "postgres" in required_parts()
        and sum(_ran_by_backend.values()) > 0
        and _passed_by_backend["postgresql"] == 0
        and exitstatus == 0
    ):
        session.exitstatus = 1
        print("\nFEDI_TEST_REQUIRE includes postgres, but no PostgreSQL test passed")
