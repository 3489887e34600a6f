"""Where the scenes run: a LocalCluster of worker processes on this machine, or any Dask scheduler given by
address (dask-jobqueue on SLURM, Kubernetes, cloud); either way a distributed Client and its dashboard."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from engine.errors import R2cnnError

MEMORY_PER_WORKER_BYTES = 2 * 1024**3  # a GF-1-sized scene peaks near 1.5 GB (README Performance)
CONNECT_TIMEOUT_S = 10


class ClusterError(R2cnnError):
    """The scheduler cannot be reached, or a local cluster cannot start."""


@dataclass(frozen=True)
class ClusterSpec:
    """scheduler set: an existing cluster; else a local one (None: sized from this machine's cores and memory)."""

    scheduler: str | None = None
    workers: int | None = None
    threads_per_worker: int | None = None
    dashboard_address: str = ":8787"
    quiet_logs: bool = True  # Dask's own log lines (restarted workers, failed tasks) only when they are errors

    def local_shape(self) -> tuple[int, int]:
        """(workers, threads per worker): by default one single-threaded worker per core, as memory allows."""
        cores = _cores()
        threads = self.threads_per_worker or 1
        if self.workers is not None:
            return self.workers, threads
        by_memory = max(1, _memory_bytes() // MEMORY_PER_WORKER_BYTES)
        return max(1, min(cores // threads, by_memory)), threads

    def model_threads(self) -> int | None:
        """Inference threads per scene on a local cluster: the cores shared by every scene running at once."""
        if self.scheduler:
            return None  # each worker decides from its own cores (task._shared_threads)
        workers, threads = self.local_shape()
        return max(1, _cores() // (workers * threads))


@contextmanager
def connect(spec: ClusterSpec) -> Iterator:
    """A distributed.Client on the spec's cluster, closed (and a local cluster shut down) on the way out."""
    logger = logging.getLogger("distributed")
    level = logger.level
    if spec.quiet_logs:
        logger.setLevel(logging.ERROR)
    try:
        with _client(spec) as client:
            from engine.archive.worker_plugins import DriverOwnsInterrupts, QuietSceneFailures

            if spec.quiet_logs:
                client.register_plugin(QuietSceneFailures())
            if not spec.scheduler:
                client.register_plugin(DriverOwnsInterrupts())
            yield client
    finally:
        logger.setLevel(level)


@contextmanager
def _client(spec: ClusterSpec) -> Iterator:
    from distributed import Client, LocalCluster

    if spec.scheduler:
        try:
            client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec.scheduler} ({exc})") from exc
        with client:
            yield client
        return
    workers, threads = spec.local_shape()
    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=spec.dashboard_address,
            silence_logs=logging.ERROR if spec.quiet_logs else logging.WARNING,
        )
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot start a local Dask cluster ({exc})") from exc
    with cluster, Client(cluster) as client:
        yield client


def dashboard_link(client) -> str:
    """The dashboard's address, or why there is none."""
    try:
        link = client.dashboard_link
    except (KeyError, AttributeError):
        link = ""
    return link or "(no dashboard: the scheduler serves none)"


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _memory_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        return MEMORY_PER_WORKER_BYTES * _cores()
