"""Structured logging: one JSON object per line, on standard error.

Two streams of events matter to operators: ``fedi.request`` (one line per HTTP request, with its
request id) and ``fedi.job`` (one line per background job: inbox processing, delivery). Callers
pass fields through ``extra={"fields": {...}}``; nothing secret is ever put in them (no tokens, no
keys, no passwords, no query strings).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["JsonFormatter", "configure_logging", "log_event", "request_id_var"]

# The id of the request being served, or of the request that caused the job being worked: set
# by the request middleware and by the workers, added to every log line.
request_id_var: ContextVar[str | None] = ContextVar("fedi_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(line, default=str).decode("utf-8")
        except (orjson.JSONEncodeError, UnicodeDecodeError):  # e.g. an integer over 64 bits
            return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every ``fedi`` and ``uvicorn`` log line to standard error as JSON (from the CLI)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # The formatter never prints thread or process names: spare every record looking them up.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate our request lines.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def log_event(
    logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``message`` with ``fields`` (see the module), if ``logger`` is enabled for ``level``.

    The record is made here and handed to the logger's handlers as ``Logger.log`` would, but
    without looking up the calling file and line, which no line of ours prints and which costs
    more than the rest (a request's log line is on every request's path).
    """
    if not logger.isEnabledFor(level):
        return
    if "request_id" not in fields and (request_id := request_id_var.get()) is not None:
        fields["request_id"] = request_id  # at call time: a handler may format later
    record = logger.makeRecord(logger.name, level, "", 0, message, (), None, extra=_extra(fields))
    logger.handle(record)


def _extra(fields: dict[str, Any]) -> dict[str, Any]:
    return {"fields": fields}
