"""Scene objects: painted surfaces (runways, aprons, roads, buildings) and aircraft, each knowing its
pixel extent so a block renders only what touches it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.synthetic.aircraft_shapes import AircraftShape, aircraft_parts, polygons_bbox, rotated_rect_bbox

# Aircraft wingspans are drawn in pixels at this gsd (the spec's 6-60 px), then rescaled to the scene's.
REFERENCE_GSD_M = 2.0
MIN_WINGSPAN_PX, MAX_WINGSPAN_PX = 6.0, 60.0


@dataclass(frozen=True)
class Surface:
    """A rotated rectangle: painted to `level` (textured), or a shadow multiplying by (1 - strength)."""

    cx: float
    cy: float
    half_u: float
    half_v: float
    angle_rad: float
    level: float  # DN for paint; darkening strength in 0..1 for a shadow
    texture: float = 0.1  # relative amplitude of the ground texture carried into the paint
    is_shadow: bool = False

    def bbox(self) -> tuple[float, ...]:
        """Pixel extent including the anti-aliased edge."""
        return rotated_rect_bbox(self.cx, self.cy, self.half_u, self.half_v, self.angle_rad)

    def touches(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Exact overlap test with a window on the rectangle's own axes (a long diagonal road's box
        covers most of a scene; the road itself only a few blocks)."""
        xs = np.array([x0, x1, x1, x0]) - self.cx
        ys = np.array([y0, y0, y1, y1]) - self.cy
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        u, v = xs * c + ys * s, ys * c - xs * s
        reach_u, reach_v = self.half_u + 1.0, self.half_v + 1.0
        return bool(u.max() > -reach_u and u.min() < reach_u and v.max() > -reach_v and v.min() < reach_v)


@dataclass(frozen=True, eq=False)
class Plane:
    """One aircraft: its polygons, paint, shadow offset and true box in scene pixels."""

    cx: float
    cy: float
    heading_rad: float
    wingspan_px: float
    level: float  # DN of the fuselage; wings slightly darker
    shadow_dx: float
    shadow_dy: float
    fuselage: np.ndarray = field(repr=False)
    panels: tuple[np.ndarray, ...] = field(repr=False)

    @property
    def box_px(self) -> tuple[float, float, float, float]:
        """True axis-aligned box (x0, y0, x1, y1) of the silhouette, shadow excluded."""
        return polygons_bbox([self.fuselage, *self.panels])

    def render_bbox(self) -> tuple[float, ...]:
        """Extent of silhouette and shadow, one pixel wider."""
        x0, y0, x1, y1 = self.box_px
        return (
            min(x0, x0 + self.shadow_dx) - 1.0,
            min(y0, y0 + self.shadow_dy) - 1.0,
            max(x1, x1 + self.shadow_dx) + 1.0,
            max(y1, y1 + self.shadow_dy) + 1.0,
        )


def make_plane(
    shape: AircraftShape,
    cx: float,
    cy: float,
    heading_rad: float,
    wingspan_px: float,
    level: float,
    sun_azimuth_rad: float,
    shadow_scale: float,
) -> Plane:
    """Place an aircraft; its shadow falls away from the sun by a length proportional to its size."""
    fuselage, panels = aircraft_parts(shape, wingspan_px, heading_rad, cx, cy)
    shadow_len = max(0.8, shadow_scale * wingspan_px)
    return Plane(
        cx=cx,
        cy=cy,
        heading_rad=heading_rad,
        wingspan_px=wingspan_px,
        level=level,
        shadow_dx=shadow_len * math.cos(sun_azimuth_rad),
        shadow_dy=shadow_len * math.sin(sun_azimuth_rad),
        fuselage=fuselage,
        panels=tuple(panels),
    )


def draw_wingspan_px(rng: np.random.Generator, gsd_m: float, size: int | None = None) -> np.ndarray:
    """Log-normal wingspans, most 10-30 px at 2 m, clipped to 6-60 px, rescaled to gsd_m."""
    at_reference = np.clip(rng.lognormal(math.log(18.0), 0.45, size=size), MIN_WINGSPAN_PX, MAX_WINGSPAN_PX)
    return at_reference * (REFERENCE_GSD_M / gsd_m)


def boxes_array(extents: list[tuple[float, ...]]) -> np.ndarray:
    """(N, 4) float64 array of extents; (0, 4) when empty."""
    return np.asarray(extents, dtype=np.float64).reshape(-1, 4)


def intersecting(boxes: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Indices (in drawing order) of the boxes that overlap the window."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    hit = (boxes[:, 0] < x1) & (boxes[:, 2] > x0) & (boxes[:, 1] < y1) & (boxes[:, 3] > y0)
    return np.flatnonzero(hit)
