"""Whole scenes swept over score thresholds from one run each: recall / precision per threshold, by size.

A run keeps every patch box down to MIN_SCORE before the cross-patch merge; merging the boxes at or above
a threshold then gives exactly what `r2cnn detect --score-threshold t` writes (per-patch NMS keeps a box's
suppressor, which always scores higher), so one detection pass answers every threshold.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig
from engine.evaluation.metrics import MIN_SCORE
from engine.ops.box_arrays import greedy_match, pairwise_iou
from engine.pipeline.candidates import Candidates
from engine.pipeline.detect import detect_scene
from engine.pipeline.merge import merge_boxes
from engine.pipeline.raster_reader import bounded_gdal_cache, open_model_scene
from engine.pipeline.run_plan import RunPlan
from engine.runtime.types import Detector
from engine.synthetic.scene_generator import read_truth

SIZE_EDGES_PX = (0.0, 12.0, 16.0, 24.0, 32.0, 40.0, 60.0, float("inf"))  # longest side at the model's gsd
LARGE_PX = 40.0  # "every aircraft >= 40 px found as one box"


@dataclass(frozen=True)
class SceneRun:
    """One scene's patch boxes before the merge (raster px, >= MIN_SCORE), its truth and the merge rule."""

    path: str
    truth_raster_px: np.ndarray  # (G, 4)
    candidates: Candidates
    merge_ios: float
    model_px_per_raster_px: float
    seconds: float

    def detections(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Merged boxes and scores of a run at this score threshold."""
        kept = self.candidates.select(self.candidates.scores >= threshold)
        boxes, best = merge_boxes(kept.boxes_raster_px, kept.scores, self.merge_ios, kept.patch_ids)
        return boxes, kept.scores[best]

    def truth_sizes_model_px(self) -> np.ndarray:
        """Longest side of each true box at the model's gsd."""
        sides = self.truth_raster_px[:, 2:] - self.truth_raster_px[:, :2]
        return sides.max(axis=1) * self.model_px_per_raster_px


def run_scene(path: str, detector: Detector, config: DetectConfig) -> SceneRun:
    """detect_scene as `r2cnn detect` runs it (config's gate, stretch, tiles), keeping boxes from MIN_SCORE.

    The detector must have been loaded with min_score <= MIN_SCORE.
    """
    started = time.perf_counter()
    model = detector.config
    plan = RunPlan.of(dataclasses.replace(config, score_threshold=MIN_SCORE), detector)
    with open_model_scene(path, model, config) as scene:
        with bounded_gdal_cache():
            found = detect_scene(scene, detector, plan)
        region = (0, 0, scene.width_px, scene.height_px)
        scale = 1.0 / float(np.mean(scene.scale_xy))
    return SceneRun(
        path,
        read_truth(path).boxes_raster_px,
        found.stream.candidates.clipped(region, MIN_SCORE),
        plan.merge_ios,
        scale,
        time.perf_counter() - started,
    )


@dataclass(frozen=True)
class SweepRow:
    """Pooled counts over the scenes at one score threshold (IoU >= 0.5, one to one)."""

    threshold: float
    tp: int
    fp: int
    fn: int

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    @property
    def f1(self) -> float:
        return 2 * self.tp / max(1, 2 * self.tp + self.fp + self.fn)


def sweep(runs: list[SceneRun], thresholds) -> list[SweepRow]:
    """TP / FP / FN pooled over the runs at each threshold."""
    rows = []
    for threshold in thresholds:
        tp = fp = fn = 0
        for run in runs:
            boxes, scores = run.detections(threshold)
            found = int(greedy_match(boxes, scores, run.truth_raster_px, 0.5).is_tp.sum())
            tp, fp, fn = tp + found, fp + len(scores) - found, fn + len(run.truth_raster_px) - found
        rows.append(SweepRow(float(threshold), tp, fp, fn))
    return rows


def recall_at_precision(rows: list[SweepRow], precision: float) -> SweepRow | None:
    """The row with the highest recall among those reaching `precision` (None: none does)."""
    reaching = [r for r in rows if r.tp and r.precision >= precision]
    return max(reaching, key=lambda r: (r.recall, -r.threshold)) if reaching else None


@dataclass(frozen=True)
class SizeBin:
    """Aircraft of one size range (longest side, model px) and how many a threshold finds."""

    low_px: float
    high_px: float
    aircraft: int
    found: int
    as_one_box: int  # found, and no other detection cuts into it (no part boxes beside the match)


def by_size(runs: list[SceneRun], threshold: float, edges=SIZE_EDGES_PX) -> list[SizeBin]:
    """Recall per size bin at one threshold, and how many were found as a single box."""
    sizes, found, single = [], [], []
    for run in runs:
        boxes, scores = run.detections(threshold)
        matching = greedy_match(boxes, scores, run.truth_raster_px, 0.5)
        hit = matching.truth_found
        one = hit.copy()
        if len(boxes) and len(run.truth_raster_px):
            overlaps = pairwise_iou(run.truth_raster_px, boxes) > 0.05
            one &= overlaps.sum(axis=1) == 1
        sizes.append(run.truth_sizes_model_px())
        found.append(hit)
        single.append(one)
    size, hit, one = np.concatenate(sizes), np.concatenate(found), np.concatenate(single)
    bins = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (size >= low) & (size < high)
        if inside.any():
            bins.append(SizeBin(low, high, int(inside.sum()), int(hit[inside].sum()), int(one[inside].sum())))
    return bins


def false_positive_sizes(runs: list[SceneRun], threshold: float) -> np.ndarray:
    """(F, 2): longest side (model px) and score of each false positive at the threshold."""
    rows = []
    for run in runs:
        boxes, scores = run.detections(threshold)
        wrong = ~greedy_match(boxes, scores, run.truth_raster_px, 0.5).is_tp
        sides = (boxes[wrong, 2:] - boxes[wrong, :2]).max(axis=1) * run.model_px_per_raster_px
        rows.append(np.stack([sides, scores[wrong]], axis=1))
    return np.concatenate(rows) if rows else np.zeros((0, 2))
