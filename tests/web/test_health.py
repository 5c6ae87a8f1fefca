from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from fedi.db import migrate
from fedi.web import create_app
from tests.conftest import make_settings


def test_healthz_answers_without_a_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "postgresql://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_before_migration_and_200_after(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url)
    with TestClient(create_app(settings)) as client:
        before = client.get("/readyz")
        migrate.upgrade(database_url)
        after = client.get("/readyz")
    assert before.status_code == 503
    assert "fedi migrate" in before.json()["reason"]
    assert after.status_code == 200
    assert after.json()["migration"] == migrate.head_revision()


def test_readyz_is_503_when_migrations_are_behind(migrated_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, migrated_url)
    with TestClient(create_app(settings)) as client:
        migrate.downgrade(migrated_url, "base")
        response = client.get("/readyz")
    assert response.status_code == 503


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "postgresql://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")
