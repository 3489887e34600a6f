"""Worker plugins the archive installs: Dask's "Compute Failed" log kept off the terminal for its own scenes
(each failure is one line in the summary and the catalogue), and, on a local cluster, Ctrl-C left to the
driver (the workers would print tracebacks; the driver stops them once finished scenes are recorded) and
the workers' tracebacks for a closed scheduler connection dropped (the driver closing it is the shutdown)."""

from __future__ import annotations

import logging
import signal
import threading

from distributed.diagnostics.plugin import WorkerPlugin

TASK_PREFIX = "r2cnn-scene-"


class _SceneFailureFilter(logging.Filter):
    """Drops the worker's report of a failed archive scene; lets every other record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        key = str(args[0]) if args else ""
        return not (str(record.msg).startswith("Compute Failed") and key.startswith(TASK_PREFIX))


class QuietSceneFailures(WorkerPlugin):
    """Installed on every worker, those that join or restart later included."""

    name = "r2cnn-quiet-scene-failures"

    def setup(self, worker) -> None:
        logger = logging.getLogger("distributed.worker")
        if not any(isinstance(f, _SceneFailureFilter) for f in logger.filters):
            logger.addFilter(_SceneFailureFilter())


def _closed_connection(exc: BaseException | None) -> bool:
    """The exception, or one it was raised from, says a comm to the scheduler was closed."""
    from distributed.comm.core import CommClosedError

    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, CommClosedError) or type(exc).__name__ == "StreamClosedError":
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class _ClosedSchedulerFilter(logging.Filter):
    """Drops a record whose traceback is a closed scheduler connection: on a local cluster the scheduler lives
    in the driver, so it only closes when the driver shuts the cluster down (or the driver is gone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not _closed_connection(exc)


def _install_on_handlers(flt: logging.Filter) -> None:
    """On every handler a distributed record reaches (records from child loggers skip the parents' filters)."""
    for name in ("distributed", ""):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, type(flt)) for f in handler.filters):
                handler.addFilter(flt)


class DriverOwnsInterrupts(WorkerPlugin):
    """Local workers ignore SIGINT: a terminal's Ctrl-C reaches the whole process group, and the driver,
    which records what finished and then shuts the cluster down, is the one that should act on it."""

    name = "r2cnn-driver-owns-interrupts"

    def setup(self, worker) -> None:
        _install_on_handlers(_ClosedSchedulerFilter())
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
