"""Per-patch boxes -> raster pixels, and one box per aircraft across overlapping patches."""

from __future__ import annotations

import numpy as np

from engine.ops.box_arrays import boxes_to_raster_px, pairwise_ios


def patch_to_raster_px(
    boxes_patch_px: np.ndarray, origin_model_px: tuple[int, int], scale_xy: tuple[float, float]
) -> np.ndarray:
    """Shift by the patch origin (model px), then scale to raster px (raster px per model px)."""
    return boxes_to_raster_px(boxes_patch_px, scale_xy, origin_model_px)


def clip_to_region(
    boxes_raster_px: np.ndarray, region_px: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to (x0, y0, x1, y1) (padding past the raster is not ground); return clipped, keep-mask."""
    boxes = np.asarray(boxes_raster_px, dtype=np.float64).reshape(-1, 4).copy()
    x0, y0, x1, y1 = region_px
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], x0, x1)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], y0, y1)
    keep = (boxes[:, 2] - boxes[:, 0] > 0.5) & (boxes[:, 3] - boxes[:, 1] > 0.5)
    return boxes, keep


def merge_boxes(
    boxes_raster_px: np.ndarray,
    scores: np.ndarray,
    ios_threshold: float = 0.5,
    patch_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy merge by IoS (SAHI's GREEDYNMM): returns (merged boxes, index of each cluster's best box).

    Clusters form around the highest-scored remaining box; the merged box is the union of the cluster
    (so a border-cut half never shrinks the whole) and its score is the leader's, the highest.
    patch_ids (C,): which patch each box came from; then only the boxes of other patches widen the union.
    A patch's own overlapping boxes are still absorbed by its leader (one box per aircraft), but the
    per-patch NMS already chose their leader's extent: a low-scored box around an aircraft and its
    neighbour would otherwise grow the aircraft's box past IoU 0.5 with the truth.
    """
    boxes = np.asarray(boxes_raster_px, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    patch_ids = np.arange(len(boxes)) if patch_ids is None else np.asarray(patch_ids).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    merged: list[np.ndarray] = []
    leaders: list[int] = []
    # Sort once by x0 so each leader only compares against boxes whose x-range can overlap its own.
    by_x0 = np.argsort(boxes[:, 0], kind="stable")
    x0_sorted = boxes[by_x0, 0]
    max_width = float(np.max(boxes[:, 2] - boxes[:, 0])) if len(boxes) else 0.0
    alive = np.ones(len(boxes), dtype=bool)
    for leader in order:
        if not alive[leader]:
            continue
        box = boxes[leader]
        lo = np.searchsorted(x0_sorted, box[0] - max_width, side="left")
        hi = np.searchsorted(x0_sorted, box[2], side="right")
        candidates = by_x0[lo:hi]
        candidates = candidates[alive[candidates]]
        members = candidates[pairwise_ios(box, boxes[candidates])[0] >= ios_threshold]
        alive[members] = False
        alive[leader] = False
        cluster = boxes[np.union1d(members[patch_ids[members] != patch_ids[leader]], [leader])]
        merged.append(
            np.array([cluster[:, 0].min(), cluster[:, 1].min(), cluster[:, 2].max(), cluster[:, 3].max()])
        )
        leaders.append(int(leader))
    if not merged:
        return np.zeros((0, 4), dtype=np.float64), np.zeros((0,), dtype=np.int64)
    return np.stack(merged), np.asarray(leaders, dtype=np.int64)
