"""Worker plugins the archive installs: Dask's "Compute Failed" log kept off the terminal for its own scenes
(each failure is one line in the summary and the catalogue), and, on a local cluster, Ctrl-C left to the
driver (the workers would print tracebacks; the driver stops them once finished scenes are recorded)."""

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


class DriverOwnsInterrupts(WorkerPlugin):
    """Local workers ignore SIGINT: a terminal's Ctrl-C reaches the whole process group, and the driver,
    which records what finished and then shuts the cluster down, is the one that should act on it."""

    name = "r2cnn-driver-owns-interrupts"

    def setup(self, worker) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
