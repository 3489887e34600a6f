"""Recommended thresholds for a trained model, chosen on data it never trained on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets.airbus import LabelledImage
from engine.evaluation.evaluate import evaluate_detector
from engine.evaluation.metrics import DEFAULT_SCORE_THRESHOLDS, GateMetrics, gate_metrics
from engine.evaluation.report import EvaluationReport
from engine.pipeline.stretch import percentile_stretch

TARGET_PRECISION = 0.95
TARGET_GATE_RECALL = 0.99
MAX_GATE_THRESHOLD = 0.5
SCORE_GRID = tuple(round(t, 2) for t in np.arange(0.05, 1.0, 0.01))


@dataclass(frozen=True)
class Calibration:
    """The thresholds and the validation report measured at them."""

    score_threshold: float
    gate_threshold: float
    validation: EvaluationReport  # at the recommended thresholds, gate on
    validation_no_gate: EvaluationReport  # every patch through the detector
    gate_all_patches: GateMetrics  # validation + generated patches (the validation images all hold aircraft)
    precision_095_threshold: float | None  # lowest score threshold with precision >= 0.95 (None: never)


def choose_score_threshold(report: EvaluationReport) -> float:
    """The threshold with the best F1 (recall and precision balanced); ties go to the lower one."""
    rows = [r for r in report.detection.rows if r.tp + r.fp > 0]
    if not rows:
        return 0.5
    return max(rows, key=lambda r: (2 * r.tp / (2 * r.tp + r.fp + r.fn), -r.score_threshold)).score_threshold


def precise_threshold(report: EvaluationReport, precision: float = TARGET_PRECISION) -> float | None:
    """Lowest threshold whose precision reaches `precision` (the paper's high-precision operating point)."""
    rows = [r for r in report.detection.rows if r.tp + r.fp > 0 and r.precision >= precision]
    return min(r.score_threshold for r in rows) if rows else None


def choose_gate_threshold(gate_scores: np.ndarray, positive: np.ndarray) -> float:
    """Highest threshold (<= 0.5) that still passes 99 % of the patches that hold an aircraft."""
    positives = np.sort(gate_scores[positive])
    if positives.size == 0:
        return MAX_GATE_THRESHOLD
    allowed_misses = int(np.floor((1 - TARGET_GATE_RECALL) * positives.size))
    return float(min(MAX_GATE_THRESHOLD, positives[allowed_misses] - 1e-6))


def generated_gate_images(count: int = 4, size_px: int = 3072, seed: int = 1234) -> list[LabelledImage]:
    """Generated scenes (seeds never used in training) tiled like real rasters: gate negatives too."""
    from engine.synthetic.scene_generator import render_scene

    images = []
    for index in range(count):
        scene = render_scene(np.random.default_rng(seed + index), size_px, size_px, n_airports=1)
        stretch = percentile_stretch(scene.image_u16[None].astype(np.float32), scene.valid_mask)
        grey = stretch.apply(scene.image_u16[None])[0]
        images.append(LabelledImage(f"generated-{seed + index}", np.repeat(grey[..., None], 3, axis=2),
                                    scene.boxes_px.astype(np.float32), np.zeros(len(scene.boxes_px), bool)))
    return images


def calibrate(detector, validation: list[LabelledImage], gate_extra: list[LabelledImage]) -> Calibration:
    """Score threshold from the validation table; gate threshold from validation + generated patches."""
    dense = evaluate_detector(detector, validation, -1.0, SCORE_GRID, with_coco=False)
    score_threshold = choose_score_threshold(dense)
    extra = evaluate_detector(detector, gate_extra, -1.0, with_coco=False) if gate_extra else None
    scores = np.asarray(dense.patch_gate_scores + (extra.patch_gate_scores if extra else ()))
    positive = np.asarray(dense.patch_positive + (extra.patch_positive if extra else ()), bool)
    gate_threshold = choose_gate_threshold(scores, positive)
    precise = precise_threshold(dense)
    thresholds = tuple(sorted(set(DEFAULT_SCORE_THRESHOLDS) | {score_threshold} | ({precise} if precise else set())))
    gated = evaluate_detector(detector, validation, gate_threshold, thresholds)
    no_gate = evaluate_detector(detector, validation, -1.0, thresholds, gate_report_threshold=gate_threshold)
    gate_all = gate_metrics(scores, positive, gate_threshold)
    return Calibration(score_threshold, gate_threshold, gated, no_gate, gate_all, precise)
