"""Structured logging: one JSON object per line, on standard error.

Two streams of events matter to operators: ``fedi.request`` (one line per HTTP request, with its
request id) and ``fedi.job`` (one line per background job: inbox processing, delivery). Callers
pass fields through ``extra={"fields": {...}}``; nothing secret is ever put in them (no tokens, no
keys, no passwords, no query strings).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Collection
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "JsonFormatter",
    "LoopBatchingHandler",
    "configure_logging",
    "log_event",
    "request_id_var",
]

# The id of the request being served, or of the request that caused the job being worked: set
# by the request middleware and by the workers, added to every log line.
request_id_var: ContextVar[str | None] = ContextVar("fedi_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # The date and time to the second of the last record: a busy server logs many lines a
        # second, and writing the date afresh for each costs more than the rest of the time.
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        """``created`` as ISO 8601 in UTC, to the millisecond (``...T10:30:00.123+00:00``)."""
        second = math.floor(created)
        # To the microsecond first, as datetime rounds a timestamp; then cut to milliseconds.
        microsecond = round((created - second) * 1_000_000)
        if microsecond >= 1_000_000:
            second, microsecond = second + 1, 0
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC).replace(tzinfo=None)
            self._second_text = moment.isoformat(timespec="seconds")
            self._second = second
        return f"{self._second_text}.{microsecond // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        fields = fields if isinstance(fields, dict) else {}
        request_id = request_id_var.get()
        if request_id is not None and "request_id" not in fields:
            fields = {"request_id": request_id, **fields}
        return self.line(
            record.created,
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            fields,
            self.formatException(record.exc_info) if record.exc_info else None,
        )

    def line(
        self,
        created: float,
        level: str,
        logger_name: str,
        message: str,
        fields: dict[str, Any] | None = None,
        exception: str | None = None,
    ) -> str:
        """The JSON line of a record with these attributes (:meth:`format` and
        :func:`log_event` both write through here); ``level`` is the level's name in lower
        case, ``fields`` holds the request id if there is one."""
        line: dict[str, Any] = {
            "time": self._time(created),
            "level": level,
            "logger": logger_name,
            "message": message,
        }
        if fields:
            line.update(fields)
        if exception is not None:
            line["exception"] = exception
        try:
            return orjson.dumps(line, default=str).decode("utf-8")
        except (orjson.JSONEncodeError, UnicodeDecodeError):  # e.g. an integer over 64 bits
            return json.dumps(line, ensure_ascii=False, default=str)


class LoopBatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the request lines of one event-loop iteration together.

    A busy server logs a line per request, and writing each one costs a system call of its own
    (the inbox benchmark: a tenth of an activity's CPU). A record of one of the ``batched``
    loggers at INFO or below, emitted on a thread running an asyncio loop, is kept and written,
    with the others of that iteration, by a callback the loop runs before it next waits. Any
    other record is written at once, after the lines kept, so the order holds, and a warning,
    an error or the last words of a server stopping (uvicorn then re-raises the signal that
    stopped it, and no exit handler runs) never wait. The request lines of an iteration cut
    short by a crash can be lost; ``flush`` and ``close`` write what is kept.
    """

    def __init__(self, stream: Any = None, *, batched: Collection[str] = ("fedi.request",)):
        super().__init__(stream)
        self._batched = frozenset(batched)
        self._kept: list[str] = []
        # The loop whose callback will write the lines kept (one per loop, should several log).
        self._scheduled: asyncio.AbstractEventLoop | None = None
        self._scheduled_thread: int | None = None  # the thread that runs that loop

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._keep(line, record.name, record.levelno)  # Handler.handle holds self.lock

    def emit_line(self, line: str, logger_name: str, level: int) -> None:
        """Write ``line``, already formatted, as :meth:`emit` writes a record's."""
        with self.lock:  # type: ignore[union-attr]
            self._keep(line, logger_name, level)

    def _keep(self, line: str, logger_name: str, level: int) -> None:
        self._kept.append(line + self.terminator)
        if logger_name not in self._batched or level > logging.INFO:
            self._write()
            return
        scheduled = self._scheduled
        if (
            scheduled is not None
            and self._scheduled_thread == threading.get_ident()
            and scheduled.is_running()
        ):
            # This thread's running loop (a thread runs one at a time) writes them: known
            # without asking asyncio, which makes a system call (getpid) on every question.
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write()
            return
        if scheduled is not loop:
            # Also when another loop's callback is due: that loop may stop before it runs.
            self._scheduled = loop
            self._scheduled_thread = threading.get_ident()
            loop.call_soon(self._flush_kept)

    def _flush_kept(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = None
            self._write()

    def _write(self) -> None:
        if not self._kept:
            return
        text = "".join(self._kept)
        self._kept.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            # As StreamHandler would for one record: report it on stderr, never raise.
            self.handleError(logging.makeLogRecord({"msg": text.rstrip("\n")}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()
            super().flush()


def configure_logging(level: str = "INFO") -> None:
    """Send every ``fedi`` and ``uvicorn`` log line to standard error as JSON (from the CLI)."""
    handler = LoopBatchingHandler(sys.stderr)
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


_LEVEL_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


def log_event(
    logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``message`` with ``fields`` (see the module), if ``logger`` is enabled for ``level``.

    When the line can only go to one :class:`LoopBatchingHandler` with a :class:`JsonFormatter`
    and nothing filters it (as :func:`configure_logging` sets things up), it is formatted and
    handed to that handler directly: the same line, without a ``LogRecord`` and the steps that
    deliver one, which cost more than the rest on a request's path. Otherwise the record is made
    here and handled as ``Logger.log`` would, without looking up the caller's file and line,
    which no line of ours prints.
    """
    if not logger.isEnabledFor(level):
        return
    if "request_id" not in fields and (request_id := request_id_var.get()) is not None:
        fields["request_id"] = request_id  # at call time: a handler may format later
    handler = _sole_json_handler(logger, level)
    if handler is not None:
        formatter = handler.formatter
        assert isinstance(formatter, JsonFormatter)
        level_name = _LEVEL_NAMES.get(level) or logging.getLevelName(level).lower()
        line = formatter.line(time.time(), level_name, logger.name, message, fields)
        handler.emit_line(line, logger.name, level)
        return
    record = logger.makeRecord(logger.name, level, "", 0, message, (), None, extra=_extra(fields))
    logger.handle(record)


def _sole_json_handler(logger: logging.Logger, level: int) -> LoopBatchingHandler | None:
    """The one handler a record of ``logger`` at ``level`` would reach, if that is a
    :class:`LoopBatchingHandler` formatting JSON and no filter stands in the way."""
    if logger.filters or logger.disabled:
        return None
    found: LoopBatchingHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if (
                found is not None
                or type(handler) is not LoopBatchingHandler
                or handler.filters
                or level < handler.level
                or type(handler.formatter) is not JsonFormatter
            ):
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


def _extra(fields: dict[str, Any]) -> dict[str, Any]:
    return {"fields": fields}
