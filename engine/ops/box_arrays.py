"""numpy box maths shared by post-processing, merging, matching, metrics and the bench: one IoU, one matcher.

Boxes are (x0, y0, x1, y1) pixel-edge float arrays in any one pixel space (the callers name it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def as_boxes(boxes) -> np.ndarray:
    """(D, 4) float64 view of any box-like input (an empty input gives (0, 4))."""
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def boxes_to_raster_px(boxes_model_px, scale_xy: tuple[float, float], origin_model_px=(0, 0)) -> np.ndarray:
    """Model px (shifted by a patch origin in model px) -> raster px; scale_xy is raster px per model px.

    The one scaling between the two pixel spaces, with boxes_to_model_px its inverse.
    """
    ox, oy = origin_model_px
    sx, sy = scale_xy
    return (as_boxes(boxes_model_px) + np.array([ox, oy, ox, oy], np.float64)) * np.array([sx, sy, sx, sy], np.float64)


def boxes_to_model_px(boxes_raster_px, scale_xy: tuple[float, float], dtype=np.float64) -> np.ndarray:
    """Raster px -> model px (scale_xy: raster px per model px), computed in dtype."""
    sx, sy = scale_xy
    return np.asarray(boxes_raster_px, dtype).reshape(-1, 4) / np.array([sx, sy, sx, sy], dtype)


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """(D,) areas; inverted boxes count as 0."""
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def pairwise_intersection(boxes_a, boxes_b) -> np.ndarray:
    """(A, B) intersection areas."""
    a, b = as_boxes(boxes_a)[:, None, :], as_boxes(boxes_b)[None, :, :]
    ix = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    return ix * iy


def pairwise_iou(boxes_a, boxes_b) -> np.ndarray:
    """(A, B) intersection over union."""
    a, b = as_boxes(boxes_a), as_boxes(boxes_b)
    inter = pairwise_intersection(a, b)
    return inter / np.maximum(box_areas(a)[:, None] + box_areas(b)[None, :] - inter, 1e-9)


def pairwise_ios(boxes_a, boxes_b) -> np.ndarray:
    """(A, B) intersection over the smaller box: a cut half has low IoU but IoS near 1 with the whole."""
    a, b = as_boxes(boxes_a), as_boxes(boxes_b)
    smaller = np.minimum(box_areas(a)[:, None], box_areas(b)[None, :])
    return pairwise_intersection(a, b) / np.maximum(smaller, 1e-9)


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Exact greedy NMS; kept indices in descending score order (ties: input order)."""
    boxes = as_boxes(boxes)
    order = np.argsort(-np.asarray(scores, dtype=np.float64).reshape(-1), kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        order = rest[pairwise_iou(boxes[best], boxes[rest])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


@dataclass(frozen=True)
class Matching:
    """One-to-one detections <-> truth: per detection its true box (-1: none) and IoU with it."""

    truth_index: np.ndarray  # (D,) int64, -1 for a false positive
    iou: np.ndarray  # (D,) IoU with the matched true box (best IoU with any for a false positive)
    n_truth: int

    @property
    def is_tp(self) -> np.ndarray:
        """(D,) bool."""
        return self.truth_index >= 0

    @property
    def truth_found(self) -> np.ndarray:
        """(G,) bool: which true boxes some detection matched."""
        found = np.zeros(self.n_truth, dtype=bool)
        found[self.truth_index[self.truth_index >= 0]] = True
        return found


def greedy_match(boxes, scores, truth_boxes, iou_threshold: float = 0.5) -> Matching:
    """VOC matching: detections by descending score, each takes the unmatched true box it overlaps most
    if IoU >= threshold; each true box matches once."""
    boxes, truth = as_boxes(boxes), as_boxes(truth_boxes)
    truth_index = np.full(len(boxes), -1, dtype=np.int64)
    best_iou = np.zeros(len(boxes), dtype=np.float64)
    if len(boxes) == 0 or len(truth) == 0:
        return Matching(truth_index, best_iou, len(truth))
    iou = pairwise_iou(boxes, truth)
    best_iou = iou.max(axis=1)
    taken = np.zeros(len(truth), dtype=bool)
    for index in np.argsort(-np.asarray(scores, dtype=np.float64).reshape(-1), kind="stable"):
        candidates = np.where(taken, -1.0, iou[index])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            taken[best] = True
            truth_index[index] = best
            best_iou[index] = candidates[best]
    return Matching(truth_index, best_iou, len(truth))


def centres_inside(boxes, x0: float, y0: float, size: float) -> np.ndarray:
    """(D,) bool: box centres inside the square [x0, x0 + size) x [y0, y0 + size) (a patch holds them)."""
    boxes = as_boxes(boxes)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return (cx >= x0) & (cx < x0 + size) & (cy >= y0) & (cy < y0 + size)


def wholly_inside(boxes, region: tuple[float, float, float, float]) -> np.ndarray:
    """(D,) bool: boxes lying entirely inside (x0, y0, x1, y1)."""
    boxes = as_boxes(boxes)
    x0, y0, x1, y1 = region
    return (boxes[:, 0] >= x0) & (boxes[:, 1] >= y0) & (boxes[:, 2] <= x1) & (boxes[:, 3] <= y1)
