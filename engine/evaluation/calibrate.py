"""Recommended thresholds for a trained model, chosen on data it never trained on."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig
from engine.contract import GATE_OFF, GATE_ONLY
from engine.datasets.airbus import LabelledImage
from engine.evaluation.evaluate import (
    detect_images,
    evaluate_detector,
    evaluation_plan,
    patches_with_aircraft,
    reached_patches,
)
from engine.evaluation.evaluation_report import EvaluationReport
from engine.evaluation.metrics import DEFAULT_SCORE_THRESHOLDS, GateMetrics, ThresholdRow, gate_metrics
from engine.evaluation.scene_sweep import SweepRow, run_scene, sweep
from engine.ops.box_arrays import as_boxes, wholly_inside
from engine.pipeline.stretch import scene_to_u8

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
    gate_all_patches: GateMetrics  # validation + generated scenes, tiled (the validation images all hold aircraft)
    precision_095_threshold: float | None  # lowest score threshold with precision >= 0.95 (None: never)


def pooled_rows(report: EvaluationReport, scene_rows: Sequence[SweepRow] = ()) -> list[ThresholdRow]:
    """The validation table with the whole-scene counts at the same thresholds added: crops say how well
    aircraft are found, whole scenes add the false alarms on open land that crops of airports never show."""
    extra = {round(r.threshold, 4): r for r in scene_rows}
    rows = []
    for row in report.detection.rows:
        scene = extra.get(round(row.score_threshold, 4), SweepRow(row.score_threshold, 0, 0, 0))
        tp, fp, fn = row.tp + scene.tp, row.fp + scene.fp, row.fn + scene.fn
        rows.append(ThresholdRow(row.score_threshold, tp, fp, fn, tp / max(1, tp + fn), tp / max(1, tp + fp)))
    return rows


def choose_score_threshold(report: EvaluationReport, scene_rows: Sequence[SweepRow] = ()) -> float:
    """The threshold with the best F1 (recall and precision balanced); ties go to the lower one."""
    rows = [r for r in pooled_rows(report, scene_rows) if r.tp + r.fp > 0]
    if not rows:
        return 0.5
    return max(rows, key=lambda r: (2 * r.tp / (2 * r.tp + r.fp + r.fn), -r.score_threshold)).score_threshold


def precise_threshold(
    report: EvaluationReport, precision: float = TARGET_PRECISION, scene_rows: Sequence[SweepRow] = ()
) -> float | None:
    """Lowest threshold whose precision reaches `precision` (the paper's high-precision operating point)."""
    rows = [r for r in pooled_rows(report, scene_rows) if r.tp + r.fp > 0 and r.precision >= precision]
    return min(r.score_threshold for r in rows) if rows else None


def choose_gate_threshold(aircraft_best_scores: np.ndarray) -> float:
    """Highest threshold (<= 0.5) that keeps 99 % of the aircraft inside at least one passed patch.

    Per aircraft, not per patch: with 20 % overlap an aircraft cut by one patch's edge lies whole in its
    neighbour, so that edge patch may be skipped without losing it.
    """
    best = np.sort(np.asarray(aircraft_best_scores, dtype=np.float64).reshape(-1))
    if best.size == 0:
        return MAX_GATE_THRESHOLD
    allowed_misses = int(np.floor((1 - TARGET_GATE_RECALL) * best.size))
    return float(min(MAX_GATE_THRESHOLD, best[allowed_misses] - 1e-6))


@dataclass(frozen=True)
class GateScores:
    """Gate scores of every patch of tiled images, and per aircraft the best of the patches holding it whole."""

    patch_scores: np.ndarray
    patch_positive: np.ndarray  # an aircraft centre inside (the evaluation's rule)
    aircraft_best: np.ndarray


def tiled_gate_scores(detector, images: list[LabelledImage], batch_size: int = 8) -> GateScores:
    """Each image through detect_raster's patch stream with the gate alone (GATE_ONLY: no detector work)."""
    plan = evaluation_plan(detector, GATE_ONLY, batch_size)
    scores, positive, best = [], [], []
    for item, found in detect_images(detector, images, plan):
        origins, patch_scores = reached_patches(found)
        boxes = as_boxes(item.boxes_px)
        height, width = item.image.shape[:2]
        aircraft = np.zeros(len(boxes))
        for (x, y), score in zip(origins, patch_scores, strict=True):
            whole = wholly_inside(boxes, (x, y, min(x + plan.tile_px, width), min(y + plan.tile_px, height)))
            aircraft[whole] = np.maximum(aircraft[whole], score)
        scores.append(patch_scores)
        positive.append(patches_with_aircraft(boxes, origins, plan.tile_px))
        best.append(aircraft)
    return GateScores(np.concatenate(scores), np.concatenate(positive), np.concatenate(best))


def generated_gate_images(
    count: int = 8, size_px: int = 3072, seed: int = 1234, stretch: str = DetectConfig().stretch
) -> list[LabelledImage]:
    """Generated scenes (seeds never used in training; 0, 1 or 2 airports, stray aircraft on fields) tiled
    like real rasters and mapped to 8 bits as r2cnn detect maps them: gate negatives and isolated aircraft."""
    from engine.synthetic.scene_generator import render_scene

    images = []
    for index in range(count):
        airports = (1, 0, 2)[index % 3]
        scene = render_scene(np.random.default_rng(seed + index), size_px, size_px, n_airports=airports)
        grey = scene_to_u8(scene.image_u16[None], scene.valid_mask, stretch)[0]
        images.append(LabelledImage(f"generated-{seed + index}", np.repeat(grey[..., None], 3, axis=2),
                                    scene.boxes_px.astype(np.float32), np.zeros(len(scene.boxes_px), bool),
                                    valid=scene.valid_mask))
    return images


def calibrate(
    detector, validation: list[LabelledImage], gate_extra: list[LabelledImage], scene_paths: Sequence[str] = ()
) -> Calibration:
    """Score threshold from the validation table (plus whole validation scenes, run as `r2cnn detect` runs
    them with this gate threshold); gate threshold from validation + generated patches."""
    dense = evaluate_detector(detector, validation, GATE_OFF, SCORE_GRID, with_coco=False)
    gate = tiled_gate_scores(detector, validation + gate_extra)
    gate_threshold = choose_gate_threshold(gate.aircraft_best)
    scene_rows: list[SweepRow] = []
    if scene_paths:
        config = DetectConfig(gate_threshold=gate_threshold)
        scene_rows = sweep([run_scene(path, detector, config) for path in scene_paths], SCORE_GRID)
    score_threshold = choose_score_threshold(dense, scene_rows)
    precise = precise_threshold(dense, scene_rows=scene_rows)
    thresholds = tuple(sorted(set(DEFAULT_SCORE_THRESHOLDS) | {score_threshold} | ({precise} if precise else set())))
    gated = evaluate_detector(detector, validation, gate_threshold, thresholds)
    no_gate = evaluate_detector(detector, validation, GATE_OFF, thresholds, gate_report_threshold=gate_threshold)
    kept = gate.aircraft_best >= gate_threshold
    gate_all = gate_metrics(gate.patch_scores, gate.patch_positive, gate_threshold, kept)
    return Calibration(score_threshold, gate_threshold, gated, no_gate, gate_all, precise)
