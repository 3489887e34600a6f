"""Evaluation on the user's labelled rasters: each streamed through the deployed pipeline (RasterScene at
the model's gsd, the same 8-bit mapping, tiling, gate and merge as `r2cnn detect`), or an existing detection
layer scored against the references without running a model; both end in one LabelledEvaluation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from engine.config import DetectConfig
from engine.datasets.labelled import LabelledRaster, LabelledSet
from engine.evaluation.box_errors import BoxSet, PixelFrame
from engine.evaluation.evaluate import evaluation_plan, findings_report
from engine.evaluation.evaluation_report import EvaluationReport
from engine.evaluation.labelled_scoring import (
    LabelledEvaluation,
    assemble,
    group_results,
    layer_evaluation,
    thresholds_with,
)
from engine.evaluation.metrics import detection_metrics
from engine.ops.box_arrays import boxes_to_model_px
from engine.outputs.fields import SCORE
from engine.pipeline.detect import SceneFindings, detect_scene
from engine.pipeline.raster_reader import RasterScene, bounded_gdal_cache, open_model_scene
from engine.pipeline.run_stats import RunMonitor
from engine.pipeline.scene_plan import check_scene
from engine.runtime.run_settings import score_threshold_for


def evaluate_rasters(
    detector,
    data: LabelledSet,
    config: DetectConfig,
    gate_threshold: float,
    score_threshold: float | None = None,
    iou_threshold: float = 0.5,
    progress: Callable[[int], None] | None = None,
) -> LabelledEvaluation:
    """Every raster through detect_scene as detect_raster runs it, keeping every box (AP needs them all);
    the operating point at score_threshold (default: the model's recommended one)."""
    plan = evaluation_plan(detector, gate_threshold, config.batch_size, config)
    operating = score_threshold_for(detector.config, score_threshold)
    sets: list[BoxSet] = []
    notes: list[str] = list(data.all_notes())

    def pairs() -> Iterator[tuple]:
        next_id = 1
        for item in data.items:
            found, frame, scene_notes = _detect(item, detector, plan, config)
            notes.extend(scene_notes)
            ids = np.arange(next_id, next_id + len(found.scores))
            next_id += len(found.scores)
            box_set = raster_box_set(item, found.boxes_raster_px, found.scores, ids, frame)
            sets.append(box_set)
            yield box_set.result(), found

    thresholds = thresholds_with(operating)
    report = findings_report(pairs(), plan, detector, thresholds, progress=progress)
    if iou_threshold != 0.5:
        report = _with_iou(report, sets, thresholds, iou_threshold)
    model = getattr(detector, "model_path", "") or "the bundled model"
    return assemble(report, sets, operating, iou_threshold, data.description, str(model), notes)


def score_layer(
    data: LabelledSet,
    detections: str,
    score_field: str | None = SCORE,
    model_gsd_m: float = 2.0,
    score_threshold: float = 0.0,
    iou_threshold: float = 0.5,
) -> LabelledEvaluation:
    """An existing detection layer (any OGR vector, any CRS) against the references: the features over each
    raster, reprojected to it; without a score field every detection scores 1."""
    from engine.datasets.vector_labels import raster_frame, read_vector_boxes

    started = time.perf_counter()
    sets, notes = [], list(data.all_notes())
    for item in data.items:
        found = read_vector_boxes(detections, raster_frame(item.path), value_field=score_field, role="detection layer")
        notes += [n for n in found.notes if "outside" not in n]  # other rasters' detections lie outside this one
        scores = found.values if score_field else np.ones(len(found.ids))
        with RasterScene(item.path, model_gsd_m, gsd_m=item.gsd_m) as scene:  # header only: the scale
            frame = PixelFrame(scene.scale_xy, scene.transform, scene.crs_wkt)
        sets.append(raster_box_set(item, found.boxes_raster_px, np.nan_to_num(scores, nan=0.0), found.ids, frame))
    if not score_field:
        notes.append(f"{detections}: no score field; every detection scores 1")
    return layer_evaluation(sets, score_threshold, iou_threshold, data.description, detections, notes, started)


def raster_box_set(item: LabelledRaster, boxes_raster_px, scores, ids, frame: PixelFrame) -> BoxSet:
    """Detections and references of one raster, from raster px to model px."""
    boxes = boxes_to_model_px(boxes_raster_px, frame.scale_xy)
    references = boxes_to_model_px(item.boxes_raster_px, frame.scale_xy)
    return BoxSet(item.name, boxes, scores, ids, references, item.reference_ids, frame)


def _detect(item: LabelledRaster, detector, plan, config: DetectConfig) -> tuple[SceneFindings, PixelFrame, list]:
    """detect_raster's steps for one raster (open at the model's gsd, refuse what it refuses, detect_scene)."""
    with open_model_scene(item.path, detector.config, config, item.gsd_m) as scene:
        with bounded_gdal_cache():
            check_scene(scene, plan, None, config.force)
            found = detect_scene(scene, detector, plan, RunMonitor())
        frame = PixelFrame(scene.scale_xy, scene.transform, scene.crs_wkt)
        notes = [] if item.gsd_m is not None else list(scene.notes)  # a reader's gsd is known, not guessed
    return found, frame, notes


def _with_iou(report: EvaluationReport, sets: list[BoxSet], thresholds, iou_threshold: float) -> EvaluationReport:
    """The VOC table at another IoU threshold (the COCO bins keep their own IoU range)."""
    import dataclasses

    detection = detection_metrics(group_results(sets), thresholds, iou_threshold)
    return dataclasses.replace(report, detection=detection)
