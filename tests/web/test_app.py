from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from fedi.db import migrate
from fedi.db.engine import make_sync_engine
from fedi.db.models import Actor
from fedi.log import JsonFormatter
from fedi.testing.databases import temporary_database
from fedi.web import create_app
from tests.conftest import make_settings


def test_two_instances_live_in_one_process(backend: str, tmp_path: Path) -> None:
    with (
        temporary_database(backend, tmp_path) as url_pl,
        temporary_database(backend, tmp_path) as url_it,
    ):
        migrate.upgrade(url_pl)
        settings_pl = make_settings(tmp_path / "pl", url_pl, FEDI_BASE_URL="https://pl.test")
        settings_it = make_settings(
            tmp_path / "it", url_it, FEDI_BASE_URL="https://it.test", FEDI_COUNTRY="IT"
        )
        app_pl, app_it = create_app(settings_pl), create_app(settings_it)
        with TestClient(app_pl) as pl, TestClient(app_it) as it:
            assert pl.get("/readyz").status_code == 200
            assert it.get("/readyz").status_code == 503  # not migrated: its own database
            migrate.upgrade(url_it)
            assert it.get("/readyz").status_code == 200
        assert app_pl.state.instance.settings.domain == "pl.test"
        assert app_it.state.instance.settings.domain == "it.test"
        engine = make_sync_engine(url_pl)
        with engine.connect() as connection:
            assert connection.execute(select(Actor)).all() == []
        engine.dispose()


def test_each_request_logs_one_line_with_a_request_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path}/db.sqlite3", FEDI_TRUSTED_PROXIES="10.0.0.0/8"
    )
    with (
        caplog.at_level(logging.INFO, logger="fedi.request"),
        TestClient(create_app(settings), client=("10.0.0.2", 50000)) as client,
    ):
        response = client.get("/healthz?token=secret-value", headers={"X-Request-Id": "abc-123"})
        generated = client.get("/healthz")
    # The request lines only (an app started on a database not migrated yet says so as well).
    requests = [r for r in caplog.records if r.name == "fedi.request"]
    lines = [json.loads(JsonFormatter().format(r)) for r in requests]
    assert len(lines) == 2
    assert response.headers["x-request-id"] == "abc-123"
    assert lines[0]["request_id"] == "abc-123"
    assert lines[0]["path"] == "/healthz"
    assert lines[0]["status"] == 200
    assert lines[0]["instance"] == "esf.test"
    assert "secret-value" not in json.dumps(lines)
    assert generated.headers["x-request-id"] == lines[1]["request_id"]
    assert len(lines[1]["request_id"]) == 16
