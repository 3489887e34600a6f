"""One scene as one Dask task: detect_raster with the worker's loaded model, the per-scene GeoPackage
written atomically, a SceneRecord back. Failures raise, so that Dask's retries can run the scene again."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.archive.footprint import footprint_wkt
from engine.archive.records import DONE, InputStamp, SceneRecord
from engine.archive.split_scene import DEFAULT_BLOCK_PATCHES, BlockSplit
from engine.archive.worker_models import borrowed_detector
from engine.config import DetectConfig
from engine.errors import DetectionCancelled, R2cnnError
from engine.outputs.vector_writer import write_detections
from engine.pipeline.detect import detect_raster


class SceneError(R2cnnError):
    """An unexpected failure inside a scene, as one line (type and message) that pickles to the client."""


@dataclass(frozen=True)
class SceneTask:
    """Everything a worker needs for one scene (paths reachable from every worker: shared storage or URLs)."""

    path: str
    outdir: str
    output: str  # relative to outdir (records.scene_output_name)
    config: DetectConfig  # model_path already resolved to the file that runs
    stamp: InputStamp
    model_hash: str
    settings_hash: str
    model_threads: int | None = None  # None: the worker's cores shared among its threads
    timeout_s: float | None = None  # a scene still running after this is stopped and recorded failed (None: never)
    block_patches: int = DEFAULT_BLOCK_PATCHES  # a larger tile grid runs as blocks of windows (0: never split)


def run_scene(task: SceneTask) -> SceneRecord:
    """Detect, write scenes/<name>.gpkg (temporary + rename: never half a file), return the done record."""
    start = time.perf_counter()
    target = os.path.join(task.outdir, task.output)
    failure = None
    try:
        threads = task.model_threads or _shared_threads()
        split = BlockSplit(task.config, task.block_patches, threads, _task_key()) if task.block_patches else None
        with borrowed_detector(task.config, threads) as detector:
            result = detect_raster(task.path, task.config, should_stop=_deadline(task.timeout_s), detector=detector,
                                   find_scene=split)
        protect = [task.path] + ([task.config.model_path] if task.config.model_path else [])
        write_detections([result], target, overwrite=True, protect=protect)
        footprint = footprint_wkt(task.path)
    except MemoryError:
        raise
    except DetectionCancelled:
        failure = SceneError(f"still running after --scene-timeout {task.timeout_s / 60:g} min: stopped")
    except Exception as exc:  # rasterio, OGR, a bug too: one line, the scene recorded as failed after its tries
        failure = _portable(exc)
    if failure is not None:
        raise failure  # outside the except block: no chained cause (GDAL's errors do not unpickle)
    return SceneRecord(
        path=task.path,
        status=DONE,
        detections=len(result.scores),
        seconds=round(time.perf_counter() - start, 3),
        model_hash=task.model_hash,
        settings_hash=task.settings_hash,
        input_size=task.stamp.size,
        input_mtime_ns=task.stamp.mtime_ns,
        output=task.output,
        worker=_worker_address(),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        footprint_wkt=footprint,
    )


def _deadline(timeout_s: float | None):
    """should_stop for detect_raster: true once the scene has run timeout_s (checked between patch batches)."""
    if timeout_s is None:
        return None
    end = time.monotonic() + timeout_s
    return lambda: time.monotonic() > end


def _portable(exc: Exception) -> R2cnnError:
    """The same error type and message without its cause, so it reaches the client as itself."""
    if isinstance(exc, R2cnnError):
        try:
            return type(exc)(str(exc))
        except TypeError:
            pass
    return SceneError(f"{type(exc).__name__}: {exc}" if not isinstance(exc, R2cnnError) else str(exc))


def _shared_threads() -> int:
    """Inference threads when not told: this worker's cores divided among the scenes it runs at once."""
    from engine.runtime.model_session import default_threads

    return max(1, default_threads() // _worker_threads())


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):  # not inside a Dask worker (a direct call)
        return 1


def _task_key() -> str:
    """This scene's Dask key (its blocks' keys extend it, so the worker plugins treat them as the scene's)."""
    try:
        from distributed import get_worker

        return str(get_worker().get_current_task())
    except (ImportError, ValueError, AttributeError):
        return "r2cnn-scene"


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError, AttributeError):
        return ""
