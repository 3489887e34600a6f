"""Aircraft silhouettes as unions of convex polygons, and anti-aliased rasterisers in global pixel
coordinates (so a shape cut by a block edge renders identically on both sides)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AircraftShape:
    """Plan-view proportions of one aircraft type, relative to its wingspan."""

    length_ratio: float = 1.0  # fuselage length / wingspan
    fuselage_width: float = 0.10  # / length
    wing_root_chord: float = 0.22  # / length
    wing_tip_ratio: float = 0.35  # tip chord / root chord
    sweep_deg: float = 28.0  # leading-edge sweep
    wing_position: float = 0.08  # wing root leading edge ahead of the centre, / length
    tail_span: float = 0.36  # / wingspan
    tail_chord: float = 0.11  # / length


def random_shape(rng: np.random.Generator, wingspan_px: float) -> AircraftShape:
    """Airliners (swept) when large, light aircraft (straight wings, long body ratio) often when small."""
    if wingspan_px < 12 and rng.random() < 0.6:
        return AircraftShape(
            length_ratio=float(rng.uniform(0.7, 0.85)),
            fuselage_width=float(rng.uniform(0.11, 0.14)),
            wing_root_chord=float(rng.uniform(0.18, 0.24)),
            wing_tip_ratio=float(rng.uniform(0.6, 0.9)),
            sweep_deg=float(rng.uniform(0.0, 6.0)),
            wing_position=float(rng.uniform(0.1, 0.2)),
            tail_span=float(rng.uniform(0.3, 0.4)),
            tail_chord=float(rng.uniform(0.1, 0.14)),
        )
    return AircraftShape(
        length_ratio=float(rng.uniform(0.85, 1.2)),
        fuselage_width=float(rng.uniform(0.08, 0.11)),
        wing_root_chord=float(rng.uniform(0.18, 0.26)),
        wing_tip_ratio=float(rng.uniform(0.25, 0.45)),
        sweep_deg=float(rng.uniform(20.0, 36.0)),
        wing_position=float(rng.uniform(0.02, 0.12)),
        tail_span=float(rng.uniform(0.3, 0.42)),
        tail_chord=float(rng.uniform(0.09, 0.13)),
    )


def aircraft_parts(
    shape: AircraftShape, wingspan_px: float, heading_rad: float, cx: float, cy: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(fuselage, [wings and tail planes]) as (V, 2) float64 polygons, counter-clockwise with y up.

    heading 0 points the nose to +x (east); angles grow clockwise on screen (y is down).
    """
    span = wingspan_px
    length = span * shape.length_ratio
    half_l, half_f = length / 2.0, max(length * shape.fuselage_width, 0.6) / 2.0
    fuselage = np.array(
        [
            (half_l, 0.0),
            (half_l - 0.1 * length, half_f),
            (-half_l + 0.06 * length, half_f),
            (-half_l, 0.35 * half_f),
            (-half_l, -0.35 * half_f),
            (-half_l + 0.06 * length, -half_f),
            (half_l - 0.1 * length, -half_f),
        ]
    )
    sweep = math.tan(math.radians(shape.sweep_deg))
    root_lead = shape.wing_position * length + 0.5 * shape.wing_root_chord * length
    wings = [
        _swept_panel(
            root_lead, shape.wing_root_chord * length, shape.wing_tip_ratio, span / 2.0, sweep, half_f
        ),
        _swept_panel(
            -half_l + 0.02 * length + shape.tail_chord * length,
            shape.tail_chord * length,
            0.5,
            shape.tail_span * span / 2.0,
            sweep * 1.1,
            half_f * 0.5,
        ),
    ]
    mirrored = [panel * np.array([1.0, -1.0]) for panel in wings]
    parts = [fuselage] + wings + [m[::-1] for m in mirrored]  # mirroring flips the winding
    cos_h, sin_h = math.cos(heading_rad), math.sin(heading_rad)
    rotation = np.array([[cos_h, -sin_h], [sin_h, cos_h]])
    placed = [part @ rotation.T + np.array([cx, cy]) for part in parts]
    return placed[0], placed[1:]


def _swept_panel(
    root_lead_x: float, root_chord: float, tip_ratio: float, half_span: float, sweep: float, root_y: float
) -> np.ndarray:
    """One wing or tail-plane half (+y side) as a trapezoid, counter-clockwise with y up."""
    tip_lead_x = root_lead_x - (half_span - root_y) * sweep
    tip_chord = root_chord * tip_ratio
    return np.array(
        [
            (root_lead_x, root_y * 0.5),
            (tip_lead_x, half_span),
            (tip_lead_x - tip_chord, half_span),
            (root_lead_x - root_chord, root_y * 0.5),
        ]
    )


def polygons_bbox(polygons: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Axis-aligned (x0, y0, x1, y1) box around every vertex."""
    points = np.concatenate(polygons, axis=0)
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


def convex_union_coverage(
    polygons: list[np.ndarray], x0: int, y0: int, width: int, height: int, samples: int = 4
) -> np.ndarray:
    """Fraction of each pixel of the window [x0, x0+w) x [y0, y0+h) covered by the union, by supersampling."""
    offsets = (np.arange(samples, dtype=np.float64) + 0.5) / samples
    xs = (np.arange(x0, x0 + width, dtype=np.float64)[:, None] + offsets[None, :]).ravel()
    ys = (np.arange(y0, y0 + height, dtype=np.float64)[:, None] + offsets[None, :]).ravel()
    inside = np.zeros((ys.size, xs.size), dtype=bool)
    for polygon in polygons:
        part = np.ones_like(inside)
        for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
            # Counter-clockwise (y up) polygons: inside is where (b - a) x (p - a) >= 0 for every edge.
            part &= ((bx - ax) * (ys[:, None] - ay) - (by - ay) * (xs[None, :] - ax)) >= 0.0
        inside |= part
    counts = inside.reshape(height, samples, width, samples).sum(axis=(1, 3), dtype=np.int32)
    return counts.astype(np.float32) / np.float32(samples * samples)


def rotated_rect_coverage(
    cx: float,
    cy: float,
    half_u: float,
    half_v: float,
    angle_rad: float,
    x0: int,
    y0: int,
    width: int,
    height: int,
) -> np.ndarray:
    """Analytic anti-aliased coverage of a rotated rectangle (u along angle): distance to the edges."""
    xs = (np.arange(x0, x0 + width, dtype=np.float64) + 0.5 - cx)[None, :]
    ys = (np.arange(y0, y0 + height, dtype=np.float64) + 0.5 - cy)[:, None]
    cos_a, sin_a = math.cos(angle_rad), math.sin(angle_rad)
    u = np.abs(xs * cos_a + ys * sin_a)
    v = np.abs(ys * cos_a - xs * sin_a)
    cover_u = np.clip(half_u - u + 0.5, 0.0, 1.0)
    cover_v = np.clip(half_v - v + 0.5, 0.0, 1.0)
    return (cover_u * cover_v).astype(np.float32)


def rotated_rect_bbox(
    cx: float, cy: float, half_u: float, half_v: float, angle_rad: float
) -> tuple[float, ...]:
    """Axis-aligned box of a rotated rectangle, one pixel wider for its anti-aliased edge."""
    cos_a, sin_a = abs(math.cos(angle_rad)), abs(math.sin(angle_rad))
    ext_x = half_u * cos_a + half_v * sin_a + 1.0
    ext_y = half_u * sin_a + half_v * cos_a + 1.0
    return (cx - ext_x, cy - ext_y, cx + ext_x, cy + ext_y)
