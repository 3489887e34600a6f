"""What an evaluation on labelled data ends in, whoever produced the detections (the model through the
deployed pipeline, an existing layer read by the CLI, or QGIS features in the Processing algorithm): no
pipeline imports, so the plugin's scoring needs neither the runtime nor a raster."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.config import ModelConfig
from engine.evaluation.box_errors import BoxErrors, BoxSet, OperatingPoint, classify, pooled, split_result
from engine.evaluation.coco_eval import coco_metrics
from engine.evaluation.evaluation_report import EvaluationReport
from engine.evaluation.metrics import DEFAULT_SCORE_THRESHOLDS, PrCurve, detection_metrics, gate_metrics, pr_curve


@dataclass(frozen=True)
class LabelledEvaluation:
    """The metrics of today (VOC table, gate, AI-TOD bins) plus the errors at the operating point, per set."""

    report: EvaluationReport
    sets: tuple[BoxSet, ...]
    errors: tuple[BoxErrors, ...]  # one per set, at the operating point
    operating: OperatingPoint  # all sets pooled
    curve: PrCurve
    source: str  # the labelled data, in words
    detections: str  # the model file, or the detection layer scored
    notes: tuple[str, ...] = ()
    set_kind: str = "raster"  # what each set is, as the per-set table names it ("detection layer" in QGIS)


def assemble(
    report: EvaluationReport,
    sets: Sequence[BoxSet],
    score_threshold: float,
    iou_threshold: float,
    source: str,
    detections: str,
    notes: Sequence[str] = (),
    set_kind: str = "raster",
) -> LabelledEvaluation:
    """Classify each set at the operating point and pool the counts."""
    errors = tuple(classify(s, score_threshold, iou_threshold) for s in sets)
    operating = pooled([e.point for e in errors], score_threshold, iou_threshold)
    curve = pr_curve(group_results(sets), iou_threshold, report.detection.min_score)
    unique = tuple(dict.fromkeys(notes))
    return LabelledEvaluation(report, tuple(sets), errors, operating, curve, source, detections, unique, set_kind)


def group_results(sets: Sequence[BoxSet]) -> list:
    """Every set's detections and references as the metrics take them (split into independent groups)."""
    return [group for s in sets for group in split_result(s.result())]


def thresholds_with(score_threshold: float, thresholds: Sequence[float] = DEFAULT_SCORE_THRESHOLDS) -> tuple:
    """The table's thresholds plus the operating one."""
    return tuple(sorted({round(float(t), 4) for t in (*thresholds, score_threshold)}))


def layer_evaluation(
    sets: Sequence[BoxSet],
    score_threshold: float,
    iou_threshold: float,
    source: str,
    detections: str,
    notes: Sequence[str] = (),
    started: float | None = None,
    set_kind: str = "raster",
) -> LabelledEvaluation:
    """Detections read from a layer: every one counts (the layer's own threshold, no 0.05 floor), no gate."""
    thresholds = thresholds_with(score_threshold)
    results = group_results(sets)
    notes = list(notes)
    try:
        coco = coco_metrics(results)
    except ImportError:  # QGIS's own Python usually lacks pycocotools: everything else still holds
        coco = None
        notes.append("no AI-TOD size bins: pycocotools is not installed in this Python")
    report = EvaluationReport(
        n_images=len(sets), n_patches=0, n_patches_passed=0, patch_size=0, gate_threshold_used=-1.0,
        detection=detection_metrics(results, thresholds, iou_threshold, min_score=0.0),
        gate=gate_metrics(np.zeros(0), np.zeros(0, bool), 0.5), coco=coco,
        seconds=time.perf_counter() - (started if started is not None else time.perf_counter()), device="-",
        from_layer=True,
    )
    return assemble(report, sets, score_threshold, iou_threshold, source, detections, notes, set_kind)


def score_map_boxes(
    name: str,
    detections_map: np.ndarray,
    scores: np.ndarray,
    detection_ids: np.ndarray,
    references_map: np.ndarray,
    reference_ids: np.ndarray,
    metres_per_unit: float,
    score_threshold: float,
    iou_threshold: float,
    source: str,
    detections: str,
    notes: Sequence[str] = (),
    set_kind: str = "detection layer",
) -> LabelledEvaluation:
    """Detection and reference boxes (x0, y0, x1, y1, y down) in one metric map CRS, no raster behind them
    (the Processing algorithm's layers), scored as a layer: in px of the model's gsd, so the size bins hold."""
    per_model_px = ModelConfig().gsd_m / metres_per_unit
    box_set = BoxSet(name, np.asarray(detections_map, np.float64) / per_model_px, scores, detection_ids,
                     np.asarray(references_map, np.float64) / per_model_px, reference_ids)
    return layer_evaluation([box_set], score_threshold, iou_threshold, source, detections, notes,
                            set_kind=set_kind)
