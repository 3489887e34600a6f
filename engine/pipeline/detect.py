"""detect_raster: the whole-scene pipeline of the paper's Fig. 2, shared by the CLI and the QGIS plugin."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from engine.config import DetectConfig, ModelConfig
from engine.errors import DetectionCancelled, RasterInputError
from engine.pipeline.georef import box_rings_map, extent_map_to_region_raster_px
from engine.pipeline.merge import merge_boxes
from engine.pipeline.patch_runner import PatchCounts, run_patches
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.raster_reader import RasterScene, bounded_gdal_cache
from engine.pipeline.tiling import tile_grid
from engine.pipeline.window_runner import run_windows
from engine.runtime import load_detector
from engine.runtime.types import Detector

READ_PROGRESS_START, READ_PROGRESS_END = 5.0, 95.0  # 0..5: model + stretch, 95..100: merge + georef


@dataclass(frozen=True)
class RunStats:
    """What one run cost and what it saw; written by --stats-json and shown by the plugin."""

    source: str
    device: str
    gated: bool
    gate_threshold: float
    score_threshold: float
    raster_size_px: tuple[int, int]  # (width, height)
    gsd_raster_m: tuple[float, float]  # (x, y) ground size of a raster pixel
    gsd_model_m: float
    tile_size_px: int
    overlap: float
    batch_size: int
    patches_total: int
    patches_skipped_nodata: int  # all nodata or a single value: never reached the network
    patches_passed_gate: int  # went through the detector (all non-skipped ones with --no-gate)
    detections_before_merge: int
    detections: int
    stage_seconds: dict[str, float]
    peak_rss_mb: float | None
    notes: tuple[str, ...] = ()
    patches_prescreened: int = 0  # of the skipped ones: known empty from the decimated mask, never read
    window_patches: int = 0  # patches per window side on the window path (0: per patch)
    windows: int = 0  # window-graph calls
    model_file: str = ""  # the model's file name (which bundled precision ran, when none was given)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SceneDetections:
    """Every aircraft found in one raster, in raster px and as polygons in the raster CRS."""

    source: str  # raster file name
    crs_wkt: str | None  # None: no georeference (pixel space)
    boxes_raster_px: np.ndarray  # (D, 4)
    rings_map: np.ndarray  # (D, 5, 2) closed rings in the raster CRS (full affine)
    scores: np.ndarray  # (D,)
    patch_scores: np.ndarray  # (D,) gate score of the patch that produced the box
    labels: tuple[str, ...]  # (D,)
    stats: RunStats


@dataclass(frozen=True)
class RunPlan:
    """The run's settings once the model's recommendations fill what the user left open."""

    score_threshold: float
    gated: bool
    gate_threshold: float  # -1.0 with --no-gate: every patch goes through the detector
    tile_px: int
    overlap: float
    batch_size: int
    window_patches: int = 0  # > 1: the window path (a window-graph model); 0: per patch

    @classmethod
    def of(cls, config: DetectConfig, model: ModelConfig, detector: Detector | None = None) -> RunPlan:
        gate = model.gate_threshold if config.gate_threshold is None else config.gate_threshold
        tile_px = config.tile_size or model.patch_size
        windowed = hasattr(detector, "run_windows") and config.window_patches > 1 and tile_px == model.patch_size
        return cls(
            score_threshold=model.score_threshold
            if config.score_threshold is None
            else config.score_threshold,
            gated=config.use_gate,
            gate_threshold=gate if config.use_gate else -1.0,
            tile_px=tile_px,
            overlap=model.overlap if config.overlap is None else config.overlap,
            batch_size=max(1, config.batch_size),
            window_patches=int(config.window_patches) if windowed else 0,
        )


def detect_raster(
    path: str,
    config: DetectConfig,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
    detector: Detector | None = None,
) -> SceneDetections:
    """Fig. 2 over a whole scene: tiles -> trunk + gate -> detector on passed patches -> merge -> map.

    `detector` lets a caller load the model once for several rasters (else config says which).
    """
    run = _Run(progress, should_stop, log)
    run.check_stop()
    with run.timed("load_model"):
        detector = detector or _load_detector(config)
    model, plan = detector.config, RunPlan.of(config, detector.config, detector)
    with run.timed("open"):
        scene = RasterScene(path, model.gsd_m, config.bands, config.gsd_m, config.stretch, _fill_value(model))
    with scene, bounded_gdal_cache():
        run.warn(scene.notes)
        with run.timed("stretch"):
            _ = scene.stretch
        region_raster_px = _region_raster_px(scene, config)
        region_model_px = _to_model_px(region_raster_px, scene.scale_xy)
        origins = tile_grid(*scene.size_model_px, plan.tile_px, plan.overlap, region_model_px)
        run.say(f"{scene.path}: {len(origins)} patches of {plan.tile_px} px on {detector.device}")
        on_patch = run.on_patch(len(origins))  # progress + cancellation between patches and batches
        prescreened = nodata_patches(scene, origins, plan.tile_px) if config.prescreen else None
        if plan.window_patches:  # the trunk once per window of patches (a window-graph model)
            candidates, counts = run_windows(
                scene, detector, origins, plan.tile_px, plan.gate_threshold, plan.window_patches, on_patch, prescreened
            )
        else:  # trunk + gate on every patch, the detector on the passed ones
            candidates, counts = run_patches(
                scene, detector, origins, plan.tile_px, plan.gate_threshold, plan.batch_size, on_patch, prescreened
            )
    with run.timed("merge"):
        candidates = candidates.clipped(region_raster_px, plan.score_threshold)
        boxes_raster_px, best = merge_boxes(candidates.boxes_raster_px, candidates.scores, config.merge_ios)
    with run.timed("georef"):
        rings_map = box_rings_map(boxes_raster_px, scene.transform)
    run.report(100.0)
    return SceneDetections(
        source=os.path.basename(path),
        crs_wkt=scene.crs_wkt,
        boxes_raster_px=boxes_raster_px,
        rings_map=rings_map,
        scores=candidates.scores[best],
        patch_scores=candidates.patch_scores[best],
        labels=(model.class_names[0],) * len(best),
        stats=run.stats(path, scene, detector, plan, origins, counts, (len(candidates), len(best))),
    )


def _load_detector(config: DetectConfig) -> Detector:
    """The model named by the config (None: the bundled one), on the requested device and backend.

    config.extra may tune ONNX Runtime: threads, inter_op_threads, parallel, spinning, memory_arena
    (onnx_runtime.SessionTuning).
    """
    from engine.runtime.onnx_runtime import SessionTuning

    fields = ("threads", "inter_op_threads", "parallel", "spinning", "memory_arena")
    tuning = SessionTuning(**{k: config.extra[k] for k in fields if config.extra.get(k) is not None})
    return load_detector(
        config.model_path, config.backend, config.device, config.score_threshold, tuning.threads, tuning,
        config.precision,
    )


def _fill_value(model: ModelConfig) -> float:
    """Padding and nodata take the training mean: a neutral grey after normalisation, no false edges."""
    return float(np.mean(model.mean))


@dataclass
class _Run:
    """Callbacks, stage timers and the cancellation checks of one detect_raster call."""

    progress: Callable[[float], None] | None
    should_stop: Callable[[], bool] | None
    log: Callable[[str], None] | None
    stages: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def check_stop(self) -> None:
        """Cancellation point: nothing has been written yet, so stopping here leaves nothing behind."""
        if self.should_stop is not None and self.should_stop():
            raise DetectionCancelled("detection cancelled")

    def report(self, percent: float) -> None:
        if self.progress is not None:
            self.progress(percent)

    def say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)

    def warn(self, notes: list[str]) -> None:
        for note in notes:
            self.say(f"warning: {note}")

    def on_patch(self, total: int) -> Callable[[int], None]:
        """After each patch: progress across READ_PROGRESS_START..END, then the cancellation check."""
        span = READ_PROGRESS_END - READ_PROGRESS_START

        def done(count: int) -> None:
            self.report(READ_PROGRESS_START + span * count / max(1, total))
            self.check_stop()

        return done

    @contextmanager
    def timed(self, name: str):
        """Add the block's wall time to stages[name]."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    def stats(
        self,
        path,
        scene,
        detector: Detector,
        plan: RunPlan,
        origins: np.ndarray,
        counts: PatchCounts,
        detections: tuple[int, int],
    ) -> RunStats:
        """The RunStats of this run; detections = (before, after) the cross-patch merge."""
        stages = {**self.stages, **counts.seconds, "total": time.perf_counter() - self.started}
        return RunStats(
            source=os.path.basename(path),
            device=detector.device,
            gated=plan.gated,
            gate_threshold=plan.gate_threshold,
            score_threshold=plan.score_threshold,
            raster_size_px=(scene.width_px, scene.height_px),
            gsd_raster_m=scene.gsd_xy_m,
            gsd_model_m=scene.model_gsd_m,
            tile_size_px=plan.tile_px,
            overlap=plan.overlap,
            batch_size=plan.batch_size,
            patches_total=len(origins),
            patches_skipped_nodata=counts.skipped,
            patches_passed_gate=counts.passed,
            detections_before_merge=detections[0],
            detections=detections[1],
            stage_seconds={k: round(v, 4) for k, v in stages.items()},
            peak_rss_mb=peak_rss_mb(),
            notes=tuple(scene.notes),
            patches_prescreened=counts.prescreened,
            window_patches=plan.window_patches,
            windows=counts.windows,
            model_file=os.path.basename(getattr(detector, "model_path", "") or ""),
        )


def _region_raster_px(scene: RasterScene, config: DetectConfig) -> tuple[int, int, int, int]:
    """The processing extent in raster px: the whole raster, or the part under config.extent_map."""
    if config.extent_map is None:
        return 0, 0, scene.width_px, scene.height_px
    region = extent_map_to_region_raster_px(
        config.extent_map, scene.transform, scene.width_px, scene.height_px
    )
    if region is None:
        raise RasterInputError(f"{scene.path}: the processing extent does not overlap the raster")
    return region


def _to_model_px(
    region_raster_px: tuple[int, int, int, int], scale_xy: tuple[float, float]
) -> tuple[int, ...]:
    """Raster px region -> model px region covering it."""
    sx, sy = scale_xy
    x0, y0, x1, y1 = region_raster_px
    return (
        int(math.floor(x0 / sx)),
        int(math.floor(y0 / sy)),
        int(math.ceil(x1 / sx)),
        int(math.ceil(y1 / sy)),
    )


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far (None where the platform cannot tell).

    Linux: VmHWM, the high-water mark of this process image (getrusage's ru_maxrss would also count
    the parent's memory at fork for a process started with exec, e.g. the benchmark's runs).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0, 1)
