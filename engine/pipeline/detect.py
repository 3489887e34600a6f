"""detect_raster: the whole-scene pipeline of the paper's Fig. 2, shared by the CLI and the QGIS plugin;
detect_scene: its tile -> gate + detector -> merge part, which evaluation runs on in-memory images too."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig
from engine.pipeline.cascade import FirstLook, cascade_mismatch, first_look
from engine.pipeline.georef import box_rings_map
from engine.pipeline.merge import merge_boxes
from engine.pipeline.patch_stream import StreamResult, stream_patches
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.raster_reader import RasterScene, bounded_gdal_cache, open_model_scene
from engine.pipeline.run_plan import RunPlan, region_model_px, region_raster_px
from engine.pipeline.run_stats import RunMonitor, RunStats, peak_rss_mb, stage_passes
from engine.pipeline.scene import Scene
from engine.pipeline.scene_plan import check_scene
from engine.pipeline.tiling import tile_grid
from engine.runtime import load_detector
from engine.runtime.cascade_runtime import CascadeScorer
from engine.runtime.types import Detector


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
class SceneFindings:
    """detect_scene's answer: merged boxes in raster px, and the stream that produced them."""

    boxes_raster_px: np.ndarray  # (D, 4) after the cross-patch merge
    scores: np.ndarray  # (D,)
    patch_scores: np.ndarray  # (D,)
    origins_model_px: np.ndarray  # (T, 2) the tile grid
    stream: StreamResult  # counts, per-patch gate scores
    detections_before_merge: int
    first_look: FirstLook | None = None  # the cascade's scores and passes (None: it did not run)


def detect_raster(
    path: str,
    config: DetectConfig,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
    detector: Detector | None = None,
    checked: CheckedRaster | None = None,
    find_scene: Callable[..., SceneFindings] | None = None,
    cascade: CascadeScorer | None = None,
) -> SceneDetections:
    """Fig. 2 over a whole scene: tiles -> cascade -> trunk + gate -> detector on passed patches -> merge -> map.

    `detector` (and `cascade`) let a caller load the models once for several rasters (else config says which);
    `checked` is the raster as check_raster opened and planned it for that detector (closed here once detected);
    `find_scene` replaces detect_scene, same arguments and answer (the archive's blocks of one scene, which run
    without the cascade).
    """
    monitor = RunMonitor(progress, should_stop, log)
    monitor.check_stop()
    with monitor.timed("load_model"):
        detector = detector or _load_detector(config)
    model = detector.config
    with monitor.timed("open"):
        checked = checked or check_raster(path, config, detector)
    scene, plan = checked.scene, checked.plan
    with scene, bounded_gdal_cache():
        if plan.cascade and find_scene is None and cascade is None:
            with monitor.timed("load_model"):
                cascade = CascadeScorer(None, config.extra.get("threads") or getattr(detector, "threads", None))
        mismatch = cascade_mismatch(cascade, plan.tile_px, model.gsd_m) if cascade is not None else None
        if mismatch:
            monitor.say(mismatch)
        use = cascade if plan.cascade and find_scene is None and not mismatch else None
        if find_scene is not None:
            found = find_scene(scene, detector, plan, monitor, checked.region_px)
        else:
            found = detect_scene(scene, detector, plan, monitor, checked.region_px, use)
    with monitor.timed("georef"):
        rings_map = box_rings_map(found.boxes_raster_px, scene.transform)
    monitor.report(100.0)
    return SceneDetections(
        source=os.path.basename(path),
        crs_wkt=scene.crs_wkt,
        boxes_raster_px=found.boxes_raster_px,
        rings_map=rings_map,
        scores=found.scores,
        patch_scores=found.patch_scores,
        labels=(model.class_names[0],) * len(found.scores),
        stats=_run_stats(path, scene, detector, plan, found, monitor),
    )


@dataclass(frozen=True)
class CheckedRaster:
    """A raster opened as the model's scene, its processing extent and its plan, checked from the header."""

    scene: RasterScene
    region_px: tuple[int, int, int, int]
    plan: RunPlan


def check_raster(path: str, config: DetectConfig, detector: Detector) -> CheckedRaster:
    """Open the raster once as the model's scene and refuse in one line (settings, extent, plan) before any
    pixel is read; the caller closes the scene (detect_raster does)."""
    plan = RunPlan.of(config, detector)
    scene = open_model_scene(path, detector.config, config)
    try:
        region = region_raster_px(scene, config.extent_map)
        check_scene(scene, plan, region, config.force)
    except BaseException:
        scene.close()
        raise
    return CheckedRaster(scene, region, plan)


def detect_scene(
    scene: Scene,
    detector: Detector,
    plan: RunPlan,
    monitor: RunMonitor | None = None,
    region_px: tuple[int, int, int, int] | None = None,
    cascade: CascadeScorer | None = None,
) -> SceneFindings:
    """Tile the scene (or its region, in source px), the cascade's first look (when given), stream the patches
    it passed (all of them without it), clip, merge across patches."""
    monitor = monitor or RunMonitor()
    monitor.warn(scene.notes)
    with monitor.timed("stretch"):
        _ = scene.stretch
    region_px = region_px or (0, 0, scene.width_px, scene.height_px)
    origins = scene_origins(scene, plan, region_px)
    monitor.say(f"{scene.path}: {len(origins)} patches of {plan.tile_px} px on {detector.device}")
    with monitor.timed("prescreen"):
        prescreened = nodata_patches(scene, origins, plan.tile_px) if plan.prescreen else None
    look = None
    if cascade is not None:
        with monitor.timed("cascade"):
            look = first_look(scene, origins, plan.tile_px, cascade, prescreened)
    selected = None if look is None else look.passed
    stream = stream_patches(
        scene, detector, origins, plan.stream, monitor.on_patch(len(origins)), prescreened, selected
    )
    with monitor.timed("merge"):
        candidates = stream.candidates.clipped(region_px, plan.score_filter)
        boxes_raster_px, best = merge_boxes(
            candidates.boxes_raster_px, candidates.scores, plan.merge_ios, candidates.patch_ids
        )
    return SceneFindings(
        boxes_raster_px, candidates.scores[best], candidates.patch_scores[best], origins, stream, len(candidates),
        look,
    )


def scene_origins(scene: Scene, plan: RunPlan, region_px: tuple[int, int, int, int]) -> np.ndarray:
    """The tile grid (T, 2) in model px over a region in source px: the patches detect_scene streams."""
    return tile_grid(*scene.size_model_px, plan.tile_px, plan.overlap, region_model_px(region_px, scene.scale_xy))


def _load_detector(config: DetectConfig) -> Detector:
    """The model named by the config (None: the bundled one), on the requested device and backend.

    config.extra may tune the runtime: threads, inter_op_threads, parallel, spinning, memory_arena,
    openvino_precision (model_session.SessionTuning).
    """
    from engine.runtime.onnx_runtime import SessionTuning

    fields = ("threads", "inter_op_threads", "parallel", "spinning", "memory_arena", "openvino_precision")
    tuning = SessionTuning(**{k: config.extra[k] for k in fields if config.extra.get(k) is not None})
    return load_detector(
        config.model_path, config.backend, config.device, config.score_threshold, tuning.threads, tuning,
        config.precision, config.runtime,
    )


def _run_stats(
    path: str, scene: RasterScene, detector: Detector, plan: RunPlan, found: SceneFindings, monitor: RunMonitor
) -> RunStats:
    """The RunStats of this run."""
    counts = found.stream.counts
    look = found.first_look
    return RunStats(
        source=os.path.basename(path),
        device=detector.device,
        gated=plan.gated,
        gate_threshold=plan.gate_threshold,
        score_threshold=plan.score_threshold,
        model_score_threshold=float(detector.config.score_threshold),
        raster_size_px=(scene.width_px, scene.height_px),
        gsd_raster_m=scene.gsd_xy_m,
        gsd_model_m=scene.model_gsd_m,
        tile_size_px=plan.tile_px,
        overlap=plan.overlap,
        batch_size=plan.batch_size,
        patches_total=len(found.origins_model_px),
        patches_skipped_nodata=counts.skipped,
        patches_passed_gate=counts.passed,
        detections_before_merge=found.detections_before_merge,
        detections=len(found.scores),
        stage_seconds=monitor.stage_seconds({**counts.seconds, **(look.seconds if look else {})}),
        peak_rss_mb=peak_rss_mb(),
        notes=tuple(scene.notes),
        patches_prescreened=counts.prescreened,
        window_patches=plan.window_patches,
        windows=counts.windows,
        model_file=os.path.basename(getattr(detector, "model_path", "") or ""),
        stretch="none" if scene.dtype == "uint8" else scene.stretch_mode,
        runtime=getattr(detector, "runtime", ""),
        precision=getattr(detector, "precision", ""),
        cascade=look is not None,
        cascade_threshold=look.threshold if look else None,
        patches_cascade_passed=int(look.passed.sum()) if look else None,
        stage_passes=stage_passes(len(found.origins_model_px), counts, look is not None, len(found.scores)),
    )
