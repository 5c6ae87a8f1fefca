"""Structured log lines: their time stamps, and the handler that writes a loop's lines together."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from fedi.log import JsonFormatter, LoopBatchingHandler, log_event


def _record(created: float) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "fedi.test", "msg": "event", "levelno": 20})
    record.levelname = "INFO"
    record.created = created
    return record


def test_time_is_written_as_datetime_writes_it() -> None:
    formatter = JsonFormatter()
    rng = random.Random(5)
    moments = [0.0, 0.9995, 0.9999996, 1_764_226_200.0, 1_764_226_200.9999999, 2_000_000_000.5]
    moments += [rng.uniform(0, 4_000_000_000) for _ in range(3000)]
    moments += [1_764_226_200 + rng.random() for _ in range(3000)]  # many within one second
    for created in moments:
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        line = json.loads(formatter.format(_record(created)))
        assert line["time"] == expected, created


def _handler() -> tuple[LoopBatchingHandler, io.StringIO]:
    stream = io.StringIO()
    handler = LoopBatchingHandler(stream, batched=["fedi.request"])
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, stream


def _line(text: str, name: str = "fedi.request", level: int = logging.INFO) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": text, "name": name, "levelno": level})


def test_outside_a_loop_each_line_is_written_at_once() -> None:
    handler, stream = _handler()
    handler.handle(_line("one"))
    assert stream.getvalue() == "one\n"


async def test_in_a_loop_lines_are_written_together_before_it_waits() -> None:
    handler, stream = _handler()
    writes: list[str] = []
    write = stream.write
    stream.write = lambda text: writes.append(text) or write(text)  # type: ignore[method-assign]
    for text in ("one", "two", "three"):
        handler.handle(_line(text))
    assert stream.getvalue() == ""  # kept until the loop's iteration ends
    await asyncio.sleep(0)
    assert writes == ["one\ntwo\nthree\n"]
    handler.handle(_line("four"))
    handler.flush()  # logging.shutdown and close do this: nothing kept is lost
    assert stream.getvalue() == "one\ntwo\nthree\nfour\n"
    await asyncio.sleep(0)
    assert stream.getvalue() == "one\ntwo\nthree\nfour\n"


async def test_a_line_from_another_thread_keeps_the_order() -> None:
    handler, stream = _handler()
    handler.handle(_line("loop"))
    await asyncio.to_thread(handler.handle, _line("thread"))
    assert stream.getvalue() == "loop\nthread\n"


async def test_a_busy_loop_in_another_thread_holds_back_no_line_of_ours() -> None:
    """Each loop writes at the end of its own iteration, whatever another thread's loop does."""
    handler, stream = _handler()
    logged, release = threading.Event(), threading.Event()

    async def busy() -> None:
        handler.handle(_line("other"))  # its loop's write is now due
        logged.set()
        release.wait(5)  # and that loop does not get to it meanwhile

    other = threading.Thread(target=asyncio.run, args=(busy(),))
    other.start()
    try:
        assert await asyncio.to_thread(logged.wait, 5)
        handler.handle(_line("ours"))
        await asyncio.sleep(0)
        assert stream.getvalue() == "other\nours\n"  # written at the end of our iteration
    finally:
        release.set()
        other.join(5)


async def test_other_lines_never_wait() -> None:
    """Nothing but request lines is kept: a server's last words are written even when it then
    dies of the signal that stopped it, before the loop runs again."""
    handler, stream = _handler()
    handler.handle(_line("request"))
    handler.handle(_line("Application shutdown complete.", name="uvicorn.error"))
    assert stream.getvalue() == "request\nApplication shutdown complete.\n"
    handler.handle(_line("slow", level=logging.WARNING))
    assert stream.getvalue().endswith("complete.\nslow\n")


def test_a_loop_that_stops_first_holds_nothing_back() -> None:
    handler, stream = _handler()

    async def log_and_stop() -> None:
        handler.handle(_line("first"))
        asyncio.get_running_loop().stop()  # before the loop's next iteration

    async def log_and_wait() -> None:
        handler.handle(_line("second"))
        await asyncio.sleep(0)

    first = asyncio.new_event_loop()
    try:
        task = first.create_task(log_and_stop())
        first.run_forever()  # stops with the first line's write still due
        assert task.done()
        asyncio.run(log_and_wait())
    finally:
        first.close()
    assert stream.getvalue() == "first\nsecond\n"


def _json_tree(stream: io.StringIO) -> tuple[logging.Logger, LoopBatchingHandler]:
    """``fedi-test.request`` under ``fedi-test``, which alone has a handler, as configured."""
    handler = LoopBatchingHandler(stream)
    handler.setFormatter(JsonFormatter())
    top = logging.getLogger("fedi-test")
    top.handlers[:] = [handler]
    top.propagate = False
    top.setLevel(logging.INFO)
    return logging.getLogger("fedi-test.request"), handler


def test_log_event_writes_the_line_a_record_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_764_226_200.123)
    stream = io.StringIO()
    logger, handler = _json_tree(stream)
    fields = {"status": 202, "path": "/inbox", "big": 2**70}
    try:
        log_event(logger, "request", **fields)
        direct = stream.getvalue()
        # A filter on the handler rules out the direct path: the record goes the usual way.
        handler.addFilter(lambda record: True)
        log_event(logger, "request", **fields)
        usual = stream.getvalue()[len(direct) :]
        assert direct == usual
        assert json.loads(direct) == {
            "time": "2025-11-27T06:50:00.123+00:00",
            "level": "info",
            "logger": "fedi-test.request",
            "message": "request",
            **fields,
        }
        handler.filters.clear()
        logging.getLogger("fedi-test").addHandler(logging.NullHandler())  # a second handler
        log_event(logger, "request", **fields)
        assert stream.getvalue().count("\n") == 3
        logger.setLevel(logging.WARNING)  # below the logger's level: nothing at all
        log_event(logger, "request", **fields)
        assert stream.getvalue().count("\n") == 3
    finally:
        logger.setLevel(logging.NOTSET)
        logging.getLogger("fedi-test").handlers.clear()


def test_log_event_takes_the_direct_path_only_when_it_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    logger, handler = _json_tree(stream)
    made: list[str] = []
    make = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(self.name)
        return make(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    try:
        log_event(logger, "direct")
        assert made == []
        logger.addFilter(lambda record: True)
        log_event(logger, "filtered")
        assert made == ["fedi-test.request"]
        assert stream.getvalue().count("\n") == 2
        logger.filters.clear()
        handler.addFilter(lambda record: False)  # a handler's filter is obeyed too
        log_event(logger, "dropped")
        assert stream.getvalue().count("\n") == 2
    finally:
        logger.filters.clear()
        logging.getLogger("fedi-test").handlers.clear()
