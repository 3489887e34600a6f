"""Everything a scene holds except per-pixel texture, drawn once from the seed: style, satellite
footprint, airports, aircraft, roads and buildings. Rendering any window only reads this."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.synthetic.aircraft_shapes import random_shape
from engine.synthetic.airport import AirportPlan, LocalPlane, LocalRect, aircraft_level, plan_airport
from engine.synthetic.objects import (
    REFERENCE_GSD_M,
    Plane,
    Surface,
    boxes_array,
    draw_wingspan_px,
    intersecting,
    make_plane,
)
from engine.synthetic.style import SceneStyle, draw_style, on_water
from engine.synthetic.valid_footprint import draw_footprint, inside_footprint, random_valid_point


@dataclass(frozen=True, eq=False)
class SceneLayout:
    """The drawn scene: objects in drawing order with their pixel extents for per-window lookup."""

    height: int
    width: int
    seed: int
    gsd_m: float
    style: SceneStyle
    footprint: np.ndarray | None  # (4, 2) convex quad of valid data, counter-clockwise with y up
    wobble_px: float  # irregularity of the footprint edge
    surfaces: tuple[Surface, ...]
    planes: tuple[Plane, ...]
    surface_boxes: np.ndarray
    plane_boxes: np.ndarray

    def truth_boxes_px(self) -> np.ndarray:
        """(B, 4) float32 true aircraft boxes (x0, y0, x1, y1) in scene pixels."""
        return boxes_array([plane.box_px for plane in self.planes]).astype(np.float32)


def make_layout(
    seed: int,
    height: int,
    width: int,
    gsd_m: float = 2.0,
    n_airports: int = 1,
    nodata_margin: bool = True,
    stray_rate: float = 0.06,
    clutter: float = 1.0,
    stray_aircraft: bool = True,
) -> SceneLayout:
    """Draw one scene; the same arguments always give the same scene."""
    if height < 16 or width < 16:
        raise ValueError(f"scene must be at least 16 x 16 px, got {width} x {height}")
    if gsd_m <= 0:
        raise ValueError(f"gsd must be positive, got {gsd_m}")
    rng = np.random.default_rng([seed, 0x5CE4E])
    style = draw_style(rng, gsd_m)
    scale = REFERENCE_GSD_M / gsd_m
    footprint = draw_footprint(rng, height, width) if nodata_margin else None
    wobble = float(rng.uniform(0.5, 4.0)) if nodata_margin else 0.0
    area = float(height * width)
    surfaces: list[Surface] = []
    roads = int(rng.poisson(clutter * area / (4500.0 * 4500.0)))
    for _ in range(roads):
        level = style.ground_level * float(rng.choice([0.75, 1.3]))
        surfaces.append(
            Surface(
                float(rng.uniform(0, width)),
                float(rng.uniform(0, height)),
                2.0 * max(height, width),
                float(rng.uniform(1.5, 4.0)) * scale,
                float(rng.uniform(0, math.pi)),
                level,
                0.1,
            )
        )
    candidates: list[Plane] = []
    placed_runways: list[tuple[float, float, float]] = []
    for _ in range(n_airports):
        plan = plan_airport(
            rng,
            rng.uniform(1000, 2000) * scale,
            gsd_m,
            style.concrete_level,
            style.aircraft_level,
            style.building_level,
        )
        angle = float(rng.uniform(0, math.pi))
        origin = _aim_airport(rng, plan, angle, footprint, height, width, placed_runways)
        placed_runways.append((origin[0], origin[1], plan.runway_length_px))
        _place_plan(plan, origin, angle, style, surfaces, candidates)
    n_stray = int(rng.poisson(stray_rate * len(candidates) + area / (6000.0 * 6000.0)))
    n_stray = n_stray if stray_aircraft else 0
    for _ in range(n_stray):  # aircraft away from aprons: fields, roads, small strips
        x, y = random_valid_point(rng, footprint, height, width, 10.0)
        span = float(draw_wingspan_px(rng, gsd_m))
        if on_water(seed, style, x, y):
            continue
        candidates.append(
            make_plane(
                random_shape(rng, span),
                x,
                y,
                float(rng.uniform(0, 2 * math.pi)),
                span,
                aircraft_level(rng, style.aircraft_level),
                style.sun_azimuth_rad,
                style.shadow_scale,
            )
        )
    planes = _keep_valid_planes(candidates, footprint, height, width, wobble + 2.0)
    _add_buildings(
        rng,
        seed,
        style,
        footprint,
        height,
        width,
        scale,
        clutter,
        surfaces,
        boxes_array([p.render_bbox() for p in planes]),
    )
    return SceneLayout(
        height=height,
        width=width,
        seed=seed,
        gsd_m=gsd_m,
        style=style,
        footprint=footprint,
        wobble_px=wobble,
        surfaces=tuple(surfaces),
        planes=tuple(planes),
        surface_boxes=boxes_array([s.bbox() for s in surfaces]),
        plane_boxes=boxes_array([p.render_bbox() for p in planes]),
    )


def _aim_airport(
    rng,
    plan: AirportPlan,
    angle: float,
    footprint,
    height: int,
    width: int,
    placed: list[tuple[float, float, float]],
) -> tuple[float, float]:
    """Runway centre such that one apron lands on a valid point, away from earlier airports if possible."""
    c, s = math.cos(angle), math.sin(angle)
    origin = (width / 2.0, height / 2.0)
    for _ in range(40):
        u, v = plan.apron_centres[int(rng.integers(len(plan.apron_centres)))]
        x, y = random_valid_point(rng, footprint, height, width, min(60.0, min(height, width) / 6))
        origin = (x - (u * c - v * s), y - (u * s + v * c))
        if all(
            math.hypot(origin[0] - ox, origin[1] - oy) > 0.6 * (plan.runway_length_px + length) + 150
            for ox, oy, length in placed
        ):
            break
    return origin


def _place_plan(
    plan: AirportPlan,
    origin: tuple[float, float],
    angle: float,
    style: SceneStyle,
    surfaces: list[Surface],
    planes: list[Plane],
) -> None:
    """Rotate the airport frame by `angle` and shift it to `origin`."""
    c, s = math.cos(angle), math.sin(angle)

    def to_scene(u: float, v: float) -> tuple[float, float]:
        return origin[0] + u * c - v * s, origin[1] + u * s + v * c

    for rect in plan.rects:
        _add_rect(surfaces, rect, *to_scene(rect.u, rect.v), angle, style)
    for local in plan.planes:
        planes.append(_scene_plane(local, *to_scene(local.u, local.v), angle, style))


def _add_rect(
    surfaces: list[Surface], rect: LocalRect, x: float, y: float, angle: float, style: SceneStyle
) -> None:
    """A painted rect, preceded by its shadow when it is a building."""
    rect_angle = angle + rect.rel_angle_rad
    if rect.height_px > 0:
        dx, dy = (
            rect.height_px * math.cos(style.sun_azimuth_rad),
            rect.height_px * math.sin(style.sun_azimuth_rad),
        )
        surfaces.append(
            Surface(
                x + dx,
                y + dy,
                rect.half_u,
                rect.half_v,
                rect_angle,
                style.shadow_strength,
                0.0,
                is_shadow=True,
            )
        )
    surfaces.append(Surface(x, y, rect.half_u, rect.half_v, rect_angle, rect.level, rect.texture))


def _scene_plane(local: LocalPlane, x: float, y: float, angle: float, style: SceneStyle) -> Plane:
    """Airport-frame aircraft to scene pixels."""
    return make_plane(
        local.shape,
        x,
        y,
        angle + local.rel_heading_rad,
        local.wingspan_px,
        local.level,
        style.sun_azimuth_rad,
        style.shadow_scale,
    )


def _add_buildings(
    rng,
    seed: int,
    style: SceneStyle,
    footprint,
    height: int,
    width: int,
    scale: float,
    clutter: float,
    surfaces: list[Surface],
    plane_boxes: np.ndarray,
) -> None:
    """Towns and scattered buildings (never under an aircraft): bright compact shapes to learn to reject."""
    area = float(height * width)
    centres = [
        (
            random_valid_point(rng, footprint, height, width, 0.0),
            float(rng.uniform(60, 250)) * scale,
            int(rng.integers(20, 120)),
        )
        for _ in range(int(rng.poisson(clutter * area / 3000.0**2)))
    ]
    centres.append(((width / 2.0, height / 2.0), 1e9, int(rng.poisson(clutter * area / 400.0**2))))
    for (cx, cy), spread, count in centres:
        town_angle = float(rng.uniform(0, math.pi))
        for _ in range(count):
            if spread > 1e8:
                x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
            else:
                x, y = float(cx + rng.normal(0, spread)), float(cy + rng.normal(0, spread))
            level = (
                style.building_level * float(rng.uniform(0.6, 1.25))
                if rng.random() < 0.8
                else style.ground_level * float(rng.uniform(0.5, 0.8))
            )
            rect = LocalRect(
                0.0,
                0.0,
                float(rng.uniform(2.5, 14)) * scale,
                float(rng.uniform(2.5, 10)) * scale,
                town_angle + float(rng.normal(0, 0.05)),
                level,
                0.03,
                float(rng.uniform(1, 5)) * scale,
            )
            reach = rect.half_u + rect.half_v + rect.height_px + 2.0
            if intersecting(plane_boxes, x - reach, y - reach, x + reach, y + reach).size or on_water(
                seed, style, x, y
            ):
                continue
            _add_rect(surfaces, rect, x, y, 0.0, style)


def _keep_valid_planes(
    candidates: list[Plane], footprint, height: int, width: int, margin: float
) -> list[Plane]:
    """Aircraft wholly on valid data, none overlapping another (greedy in drawing order)."""
    kept: list[Plane] = []
    kept_boxes: list[tuple[float, ...]] = []
    for plane in candidates:
        box = plane.box_px
        if not inside_footprint(footprint, height, width, box, margin):
            continue
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in kept_boxes):
            continue
        kept.append(plane)
        kept_boxes.append(box)
    return kept
