"""The worker-side log filters: a closed scheduler connection (the driver shutting a local cluster down after
Ctrl-C) prints no traceback from the workers; every other error still does."""

from __future__ import annotations

import logging
import sys

import pytest

pytest.importorskip("distributed")

from distributed.comm.core import CommClosedError  # noqa: E402

from engine.archive.worker_plugins import _ClosedSchedulerFilter  # noqa: E402


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, "heartbeat failed", (), info)


def _chained_close() -> BaseException:
    """What distributed raises when the scheduler closes mid-heartbeat: CommClosedError from a closed stream."""
    from tornado.iostream import StreamClosedError

    try:
        try:
            raise StreamClosedError()
        except StreamClosedError as inner:
            raise CommClosedError("in <TCP (closed) ConnectionPool.heartbeat_worker>: Stream is closed") from inner
    except CommClosedError as outer:
        return outer


def test_a_closed_scheduler_connection_is_dropped_even_when_wrapped():
    flt = _ClosedSchedulerFilter()
    assert flt.filter(_record(_chained_close())) is False
    try:
        try:
            raise CommClosedError("closed")
        except CommClosedError as inner:
            raise OSError("Failed to communicate") from inner
    except OSError as wrapped:
        assert flt.filter(_record(wrapped)) is False


def test_other_errors_and_plain_messages_still_reach_the_terminal():
    flt = _ClosedSchedulerFilter()
    assert flt.filter(_record(MemoryError("out of memory"))) is True
    assert flt.filter(_record(OSError("No space left on device"))) is True
    plain = logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, "a message", (), None)
    assert flt.filter(plain) is True
