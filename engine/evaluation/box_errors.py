"""Detections against references at one operating point (score and IoU thresholds): which detections are
true or false positives, which references were missed, with the IoU and counterpart of each, so the user
can see the errors on the map. One matcher (engine.ops.box_arrays.greedy_match), as the metrics use."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine

from engine.evaluation.metrics import ImageResult
from engine.ops.box_arrays import as_boxes, greedy_match, pairwise_iou
from engine.outputs.fields import ERROR_LAYERS
from engine.outputs.formatting import json_ready

GROUP_CELL_PX = 512.0  # model px: larger than any aircraft, so few boxes straddle cells


@dataclass(frozen=True)
class PixelFrame:
    """How a set's model px map back to its raster and the map: raster px per model px, affine, CRS."""

    scale_xy: tuple[float, float]
    transform: Affine  # raster px -> map
    crs_wkt: str | None


@dataclass(frozen=True, eq=False)
class BoxSet:
    """One image or raster: detections and references in model px (the AI-TOD bins are sizes at the
    model's gsd; IoU does not change with the scale)."""

    name: str
    boxes_px: np.ndarray  # (D, 4)
    scores: np.ndarray  # (D,)
    ids: np.ndarray  # (D,) detection ids (feature ids of a layer, or running numbers)
    truth_px: np.ndarray  # (G, 4)
    truth_ids: np.ndarray  # (G,) reference ids
    frame: PixelFrame | None = None  # None: no raster behind it (boxes in map units already)

    def __post_init__(self):
        object.__setattr__(self, "boxes_px", as_boxes(self.boxes_px))
        object.__setattr__(self, "truth_px", as_boxes(self.truth_px))
        object.__setattr__(self, "scores", np.asarray(self.scores, np.float64).reshape(-1))
        object.__setattr__(self, "ids", np.asarray(self.ids, np.int64).reshape(-1))
        object.__setattr__(self, "truth_ids", np.asarray(self.truth_ids, np.int64).reshape(-1))

    def result(self) -> ImageResult:
        """What the metrics take."""
        return ImageResult(self.boxes_px, self.scores, self.truth_px)


@dataclass(frozen=True)
class OperatingPoint:
    """Counts at one score threshold and IoU threshold."""

    score_threshold: float
    iou_threshold: float
    tp: int
    fp: int
    fn: int

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else math.nan

    def to_dict(self) -> dict:
        """JSON-ready, with the derived figures."""
        return json_ready({
            "score_threshold": self.score_threshold, "iou_threshold": self.iou_threshold,
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "recall": self.recall, "precision": self.precision, "f1": self.f1,
        })


@dataclass(frozen=True, eq=False)
class BoxErrors:
    """One set at an operating point. Detection arrays cover the kept ones (score >= threshold) only."""

    kept: np.ndarray  # (K,) indices of the kept detections in the set
    det_match: np.ndarray  # (K,) matched reference index, -1: false positive
    det_iou: np.ndarray  # (K,) IoU with the match, else with the best-overlapping reference
    det_nearest: np.ndarray  # (K,) that reference's index (-1: none overlaps)
    missed: np.ndarray  # (F,) indices of the references no kept detection matched
    ref_iou: np.ndarray  # (G,) best IoU with a kept detection
    ref_nearest: np.ndarray  # (G,) index into kept of that detection (-1: none overlaps)
    point: OperatingPoint

    @property
    def tp(self) -> np.ndarray:
        """(T,) indices into kept of the true positives."""
        return np.flatnonzero(self.det_match >= 0)

    @property
    def fp(self) -> np.ndarray:
        """(P,) indices into kept of the false positives."""
        return np.flatnonzero(self.det_match < 0)


def overlap_groups(boxes, truth, cell_px: float = GROUP_CELL_PX) -> list[tuple[np.ndarray, np.ndarray]]:
    """(detection indices, reference indices) of groups no box crosses: boxes sharing a grid cell are grouped,
    so any two that overlap are together. Matching, AP and COCO per group equal those over the whole set,
    with memory bounded by the densest group and no per-image detection cap hit on a large raster."""
    boxes, truth = as_boxes(boxes), as_boxes(truth)
    every = np.concatenate([boxes, truth])
    if not len(every):
        return []
    first = np.floor(every[:, :2] / cell_px).astype(np.int64)
    last = np.floor(np.maximum(every[:, 2:] - 1e-9, every[:, :2]) / cell_px).astype(np.int64)
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def root(cell):
        while parent.setdefault(cell, cell) != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for (cx0, cy0), (cx1, cy1) in zip(first, last, strict=True):
        anchor = root((int(cx0), int(cy0)))
        for cx in range(int(cx0), int(cx1) + 1):
            for cy in range(int(cy0), int(cy1) + 1):
                parent[root((cx, cy))] = anchor
    ids: dict[tuple[int, int], int] = {}
    labels = np.array([ids.setdefault(root((int(x), int(y))), len(ids)) for x, y in first])
    order = np.argsort(labels, kind="stable")
    groups = []
    for members in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1):
        groups.append((members[members < len(boxes)], members[members >= len(boxes)] - len(boxes)))
    return groups


def split_result(result: ImageResult, cell_px: float = GROUP_CELL_PX) -> list[ImageResult]:
    """One image's detections and truth as independent groups (overlap_groups), for the metrics."""
    boxes, scores = as_boxes(result.boxes_px), np.asarray(result.scores, np.float64).reshape(-1)
    truth = as_boxes(result.gt_boxes_px)
    return [ImageResult(boxes[d], scores[d], truth[t]) for d, t in overlap_groups(boxes, truth, cell_px)]


def classify(box_set: BoxSet, score_threshold: float, iou_threshold: float = 0.5) -> BoxErrors:
    """Greedy one-to-one matching of the kept detections (descending score) to the references, group by
    group (the same answer as over the whole set)."""
    kept = np.flatnonzero(box_set.scores >= score_threshold)
    boxes, truth = box_set.boxes_px[kept], box_set.truth_px
    det_match = np.full(len(kept), -1, np.int64)
    det_iou = np.zeros(len(kept))
    det_nearest = np.full(len(kept), -1, np.int64)
    ref_found = np.zeros(len(truth), bool)
    ref_iou = np.zeros(len(truth))
    ref_nearest = np.full(len(truth), -1, np.int64)
    for d, t in overlap_groups(boxes, truth):
        matching = greedy_match(boxes[d], box_set.scores[kept][d], truth[t], iou_threshold)
        iou = pairwise_iou(boxes[d], truth[t]) if len(d) and len(t) else np.zeros((len(d), len(t)))
        det_match[d] = _in_set(matching.truth_index, t)
        det_iou[d] = matching.iou
        det_nearest[d] = _in_set(_best(iou, axis=1), t)
        ref_found[t] = matching.truth_found
        ref_nearest[t] = _in_set(_best(iou, axis=0), d)
        ref_iou[t] = iou.max(axis=0) if len(d) else 0.0
    det_nearest = np.where(det_match >= 0, det_match, det_nearest)
    missed = np.flatnonzero(~ref_found)
    tp = int((det_match >= 0).sum())
    point = OperatingPoint(float(score_threshold), float(iou_threshold), tp, len(kept) - tp, len(missed))
    return BoxErrors(kept, det_match, det_iou, det_nearest, missed, ref_iou, ref_nearest, point)


def _in_set(group_index: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Indices within a group -> indices within the set (-1 stays -1)."""
    out = np.full(len(group_index), -1, np.int64)
    found = group_index >= 0
    out[found] = members[group_index[found]]
    return out


def _best(iou: np.ndarray, axis: int) -> np.ndarray:
    """Per row (axis=1) or column (axis=0): the index of the largest IoU, -1 where nothing overlaps."""
    if iou.shape[axis] == 0:
        return np.full(iou.shape[1 - axis], -1, dtype=np.int64)
    best = iou.argmax(axis=axis)
    return np.where(iou.max(axis=axis) > 0, best, -1).astype(np.int64)


def pooled(points: list[OperatingPoint], score_threshold: float, iou_threshold: float) -> OperatingPoint:
    """All sets together."""
    return OperatingPoint(
        float(score_threshold), float(iou_threshold),
        sum(p.tp for p in points), sum(p.fp for p in points), sum(p.fn for p in points),
    )


def error_rows(box_set: BoxSet, errors: BoxErrors) -> dict[str, list[tuple]]:
    """Per layer: (box in model px, feature_id, score, iou, matched_id) rows of one set."""
    kept = errors.kept
    rows: dict[str, list[tuple]] = {name: [] for name in ERROR_LAYERS}
    for k, index in enumerate(kept):
        match = int(errors.det_nearest[k])
        layer = "true_positive" if errors.det_match[k] >= 0 else "false_positive"
        matched = int(box_set.truth_ids[match]) if match >= 0 else None
        rows[layer].append((box_set.boxes_px[index], int(box_set.ids[index]), float(box_set.scores[index]),
                            float(errors.det_iou[k]), matched))
    for ref in errors.missed:
        nearest = int(errors.ref_nearest[ref])
        score = float(box_set.scores[kept[nearest]]) if nearest >= 0 else None
        matched = int(box_set.ids[kept[nearest]]) if nearest >= 0 else None
        rows["false_negative"].append((box_set.truth_px[ref], int(box_set.truth_ids[ref]), score,
                                       float(errors.ref_iou[ref]), matched))
    return rows
