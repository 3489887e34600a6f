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
OVERSUBSCRIPTION = 2  # scenes at once per core that an explicit --workers may ask for (I/O-bound URLs wait)


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
            _check_asked_shape(self.workers, threads, cores)
            return self.workers, threads
        by_memory = max(1, _memory_bytes() // MEMORY_PER_WORKER_BYTES)
        return max(1, min(cores // threads, by_memory)), threads

    def model_threads(self) -> int | None:
        """Inference threads per scene on a local cluster: the cores shared by every scene running at once."""
        if self.scheduler:
            return None  # each worker decides from its own cores (task._shared_threads)
        workers, threads = self.local_shape()
        return max(1, _cores() // (workers * threads))


def _check_asked_shape(workers: int, threads: int, cores: int) -> None:
    """--workers x --threads-per-worker scenes run at once: each needs its memory, and past twice the cores
    they only wait for one another (with the memory held)."""
    scenes, memory = workers * threads, _memory_bytes()
    fits = max(1, memory // MEMORY_PER_WORKER_BYTES)
    if scenes > fits:
        raise ClusterError(
            f"--workers {workers} x --threads-per-worker {threads} runs {scenes} scenes at once, "
            f"{MEMORY_PER_WORKER_BYTES / 1024**3:g} GB each: this machine's {memory / 1024**3:.1f} GB hold {fits}"
        )
    if scenes > OVERSUBSCRIPTION * cores:
        raise ClusterError(
            f"--workers {workers} x --threads-per-worker {threads} runs {scenes} scenes at once on {cores} core(s): "
            f"at most {OVERSUBSCRIPTION * cores} (leave --workers out for one per core)"
        )


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
        check_scheduler(spec.scheduler)
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


def check_scheduler(address: str, timeout_s: float | None = None) -> None:
    """A Dask scheduler answers at address within timeout_s, or ClusterError: a web server, a closed port or a
    silent host would otherwise keep distributed.Client waiting for a handshake that never comes."""
    import asyncio

    from distributed.comm.addressing import parse_address, parse_host_port

    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        scheme, location = parse_address(address)
        port = parse_host_port(location)[1] if scheme in _HOST_PORT_SCHEMES else None
    except (ValueError, TypeError) as exc:
        raise ClusterError(f"--scheduler {address!r} is not a Dask address (tcp://host:8786): {exc}") from exc
    if scheme not in _SCHEMES or (port is not None and not 0 < port < 65536):
        raise ClusterError(f"--scheduler {address!r} is not a Dask address (tcp://host:8786)")
    try:
        reply = asyncio.run(_identity(address, timeout_s))
    except (OSError, TimeoutError) as exc:
        why = "no answer" if isinstance(exc, TimeoutError | asyncio.TimeoutError) else str(exc) or type(exc).__name__
        raise ClusterError(
            f"no Dask scheduler answers at {address} within {timeout_s:g} s ({why.splitlines()[0][:160]})"
        ) from exc
    except Exception as exc:  # the other end spoke, but not Dask's protocol
        raise ClusterError(f"{address} answers, but not as a Dask scheduler ({type(exc).__name__})") from exc
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ClusterError(f"{address} answers, but not as a Dask scheduler")


_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


async def _identity(address: str, timeout_s: float):
    """The scheduler's identity message, every step bounded by timeout_s."""
    import asyncio

    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout_s)
        return await asyncio.wait_for(comm.read(), timeout_s)
    finally:
        comm.abort()


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
