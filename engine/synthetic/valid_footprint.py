"""The valid-data footprint of a scene: a rotated quad (like an orthorectified satellite strip) or
straight nodata bands, with distance helpers used to keep aircraft wholly on valid data."""

from __future__ import annotations

import math

import numpy as np


def edge_distances(footprint: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Signed distance (px, positive inside) of points to each footprint edge: (4, ...) array."""
    out = []
    for (ax, ay), (bx, by) in zip(footprint, np.roll(footprint, -1, axis=0), strict=True):
        norm = math.hypot(bx - ax, by - ay)
        out.append(((bx - ax) * (ys - ay) - (by - ay) * (xs - ax)) / norm)
    return np.stack(out)


def draw_footprint(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A rotated satellite footprint touching the raster edges, or straight nodata bands on some sides."""
    margin = rng.uniform(0.0, 0.03) * min(height, width)
    inner_w, inner_h = width - 2 * margin, height - 2 * margin
    alpha = math.radians(rng.uniform(3.0, 11.0))
    c, s = math.cos(alpha), math.sin(alpha)
    side_a = (inner_w * c - inner_h * s) / (c * c - s * s)
    side_b = (inner_h * c - inner_w * s) / (c * c - s * s)
    if rng.random() < 0.3 or side_a <= 0.3 * inner_w or side_b <= 0.3 * inner_h:
        bands = rng.uniform(0.01, 0.06, size=4) * np.array([width, height, width, height])
        bands *= rng.random(4) < 0.5
        x0, y0, x1, y1 = bands[0], bands[1], width - bands[2], height - bands[3]
        quad = np.array([(x0, y0), (x0, y1), (x1, y1), (x1, y0)])
    else:
        sign = rng.choice([-1.0, 1.0])
        corners = np.array([(-side_a, -side_b), (-side_a, side_b), (side_a, side_b), (side_a, -side_b)]) / 2
        rotation = np.array([[c, -sign * s], [sign * s, c]])
        quad = corners @ rotation.T + np.array([width / 2, height / 2])
    area = 0.5 * np.sum(quad[:, 0] * np.roll(quad[:, 1], -1) - np.roll(quad[:, 0], -1) * quad[:, 1])
    return quad if area > 0 else quad[::-1].copy()


def inside_footprint(
    footprint: np.ndarray | None, height: int, width: int, box: tuple[float, ...], margin: float
) -> bool:
    """Whole box inside the raster and at least `margin` px inside the footprint."""
    x0, y0, x1, y1 = box
    if x0 < 1 or y0 < 1 or x1 > width - 1 or y1 > height - 1:
        return False
    if footprint is None:
        return True
    xs, ys = np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1])
    return bool(edge_distances(footprint, xs, ys).min() >= margin)


def random_valid_point(
    rng: np.random.Generator, footprint: np.ndarray | None, height: int, width: int, margin: float
) -> tuple[float, float]:
    """A uniform point of the valid area (falls back to the raster centre)."""
    for _ in range(100):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if inside_footprint(footprint, height, width, (x, y, x, y), margin):
            return float(x), float(y)
    return width / 2.0, height / 2.0
