"""Eq. 2 of R2-CNN: 1-D k-means on box scales sqrt(w * h) at the model gsd gives the anchor sizes,
so anchors sit where the data's tiny objects are instead of on a hand-picked geometric ladder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScaleStats:
    """Distribution of box scales (px) that the anchors were fitted to."""

    count: int
    minimum: float
    p10: float
    median: float
    p90: float
    maximum: float


def box_scales_px(boxes_px: np.ndarray) -> np.ndarray:
    """sqrt(w * h) of (B, 4) boxes; degenerate boxes are dropped."""
    boxes = np.asarray(boxes_px, dtype=np.float64).reshape(-1, 4)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.sqrt(area[area > 0])


def scale_stats(sizes_px: np.ndarray) -> ScaleStats:
    """Summary of a non-empty set of scales."""
    sizes = np.asarray(sizes_px, dtype=np.float64).ravel()
    if sizes.size == 0:
        raise ValueError("no box sizes")
    p10, median, p90 = np.percentile(sizes, [10, 50, 90])
    return ScaleStats(
        int(sizes.size), float(sizes.min()), float(p10), float(median), float(p90), float(sizes.max())
    )


def kmeans_anchor_sizes(
    sizes_px: np.ndarray, k: int = 6, seed: int = 0, max_iter: int = 300
) -> tuple[float, ...]:
    """k cluster centres (sorted, px) minimising sum ||x - mu||^2 over 1-D scales: seeded k-means++, Lloyd."""
    sizes = np.asarray(sizes_px, dtype=np.float64).ravel()
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError("box sizes must be finite and positive")
    if np.unique(sizes).size < k:
        raise ValueError(f"need at least {k} distinct box sizes for k={k}, got {np.unique(sizes).size}")
    rng = np.random.default_rng(seed)
    centres = _kmeans_plus_plus(sizes, k, rng)
    for _ in range(max_iter):
        labels = np.argmin(np.abs(sizes[:, None] - centres[None, :]), axis=1)
        updated = centres.copy()
        for cluster in range(k):
            members = sizes[labels == cluster]
            if members.size:
                updated[cluster] = members.mean()
            else:  # an emptied cluster restarts at the point worst served
                updated[cluster] = sizes[np.argmax(np.min(np.abs(sizes[:, None] - centres[None, :]), axis=1))]
        if np.allclose(updated, centres, rtol=0.0, atol=1e-9):
            break
        centres = updated
    return tuple(float(c) for c in np.sort(centres))


def _kmeans_plus_plus(sizes: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Arthur and Vassilvitskii's seeding: each next centre drawn with probability ~ squared distance."""
    centres = [float(sizes[rng.integers(sizes.size)])]
    for _ in range(1, k):
        distance2 = np.min((sizes[:, None] - np.asarray(centres)[None, :]) ** 2, axis=1)
        total = distance2.sum()
        if total <= 0:
            break
        centres.append(float(sizes[rng.choice(sizes.size, p=distance2 / total)]))
    return np.asarray(centres, dtype=np.float64)


def inertia(sizes_px: np.ndarray, centres: tuple[float, ...]) -> float:
    """The Eq. 2 objective: sum of squared distances to the nearest centre."""
    sizes = np.asarray(sizes_px, dtype=np.float64).ravel()
    return float(np.sum(np.min((sizes[:, None] - np.asarray(centres)[None, :]) ** 2, axis=1)))
