"""The paper's detection metrics: VOC AP50 (all-point interpolation), max recall at score >= 0.05,
TP/FP/recall/precision per score threshold, and the gate's patch-level recall and precision."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.ops.box_arrays import greedy_match

DEFAULT_SCORE_THRESHOLDS = (0.05, 0.5, 0.8, 0.85, 0.9, 0.95)
MIN_SCORE = 0.05  # PASCAL VOC / R2-CNN: AP and max recall over detections scoring at least this


@dataclass(frozen=True, eq=False)
class ImageResult:
    """Detections and ground truth of one image, in the same pixel space."""

    boxes_px: np.ndarray  # (D, 4)
    scores: np.ndarray  # (D,)
    gt_boxes_px: np.ndarray  # (G, 4)


@dataclass(frozen=True)
class ThresholdRow:
    """Counts at one score threshold (a row of R2-CNN Tables II-III)."""

    score_threshold: float
    tp: int
    fp: int
    fn: int
    recall: float  # nan without ground truth
    precision: float  # nan without detections


@dataclass(frozen=True)
class DetectionMetrics:
    """VOC-style summary over a set of images."""

    n_gt: int
    n_detections: int  # scoring >= min_score
    ap50: float
    max_recall: float
    rows: tuple[ThresholdRow, ...]
    iou_threshold: float = 0.5
    min_score: float = MIN_SCORE


@dataclass(frozen=True)
class GateMetrics:
    """The patch classifier as a binary classifier: a patch is positive when it holds an aircraft."""

    threshold: float
    n_patches: int
    positives: int
    tp: int
    fp: int
    fn: int
    tn: int
    recall: float
    precision: float
    aircraft_recall: float  # true aircraft lying in at least one patch that passed the gate


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC2010+ all-point interpolated AP: area under the monotone precision envelope."""
    mrec = np.concatenate(([0.0], np.asarray(recall, dtype=np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, dtype=np.float64), [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


@dataclass(frozen=True, eq=False)
class PrCurve:
    """Every detection scoring >= min_score over all images, by descending score, with the running
    recall and precision (the PR curve AP integrates, and the score histogram's TP / FP split)."""

    scores: np.ndarray  # (N,) descending
    is_tp: np.ndarray  # (N,) bool
    recall: np.ndarray  # (N,) nan without ground truth
    precision: np.ndarray  # (N,)
    n_gt: int


def pr_curve(results: Sequence[ImageResult], iou_threshold: float = 0.5, min_score: float = MIN_SCORE) -> PrCurve:
    """Match per image (VOC greedy, one to one), then pool and sort by score."""
    all_scores, all_tp = [], []
    n_gt = 0
    for result in results:
        scores = np.asarray(result.scores, dtype=np.float64).reshape(-1)
        keep = scores >= min_score
        boxes = np.asarray(result.boxes_px, dtype=np.float64).reshape(-1, 4)[keep]
        all_tp.append(greedy_match(boxes, scores[keep], result.gt_boxes_px, iou_threshold).is_tp)
        all_scores.append(scores[keep])
        n_gt += len(np.asarray(result.gt_boxes_px).reshape(-1, 4))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    is_tp = np.concatenate(all_tp) if all_tp else np.zeros(0, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    tp_cum = np.cumsum(is_tp[order])
    fp_cum = np.cumsum(~is_tp[order])
    recall = tp_cum / n_gt if n_gt else np.full(len(order), math.nan)
    precision = tp_cum / np.maximum(tp_cum + fp_cum, 1)
    return PrCurve(scores[order], is_tp[order], recall, precision, n_gt)


def detection_metrics(
    results: Sequence[ImageResult],
    score_thresholds: Sequence[float] = DEFAULT_SCORE_THRESHOLDS,
    iou_threshold: float = 0.5,
    min_score: float = MIN_SCORE,
) -> DetectionMetrics:
    """AP50, max recall and the threshold table over all images (matching is per image)."""
    curve = pr_curve(results, iou_threshold, min_score)
    n_gt, scores, is_tp = curve.n_gt, curve.scores, curve.is_tp
    if n_gt == 0:
        ap50 = max_recall = math.nan
    else:
        ap50 = average_precision(curve.recall, curve.precision)
        max_recall = float(curve.recall[-1]) if len(curve.recall) else 0.0
    rows = []
    for threshold in score_thresholds:
        above = scores >= threshold
        tp, fp = int(np.sum(is_tp & above)), int(np.sum(~is_tp & above))
        rows.append(
            ThresholdRow(
                float(threshold),
                tp,
                fp,
                n_gt - tp,
                tp / n_gt if n_gt else math.nan,
                tp / (tp + fp) if tp + fp else math.nan,
            )
        )
    return DetectionMetrics(n_gt, int(len(scores)), ap50, max_recall, tuple(rows), iou_threshold, min_score)


def gate_metrics(
    gate_scores: np.ndarray,
    patch_positive: np.ndarray,
    threshold: float,
    aircraft_covered: np.ndarray | None = None,
) -> GateMetrics:
    """Patch-level recall/precision at the threshold; aircraft_covered: per true aircraft, passed or not."""
    scores = np.asarray(gate_scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(patch_positive, dtype=bool).reshape(-1)
    if scores.shape != positive.shape:
        raise ValueError(f"{scores.size} gate scores but {positive.size} patch labels")
    passed = scores >= threshold
    tp, fp = int(np.sum(passed & positive)), int(np.sum(passed & ~positive))
    fn, tn = int(np.sum(~passed & positive)), int(np.sum(~passed & ~positive))
    covered = np.asarray(aircraft_covered if aircraft_covered is not None else [], dtype=bool)
    return GateMetrics(
        float(threshold),
        int(scores.size),
        int(positive.sum()),
        tp,
        fp,
        fn,
        tn,
        tp / (tp + fn) if tp + fn else math.nan,
        tp / (tp + fp) if tp + fp else math.nan,
        float(covered.mean()) if covered.size else math.nan,
    )
