"""One airport in its own frame (u along the runway, v across): runway, taxiway, aprons with aircraft
parked in rows, terminal and hangars; placed into a scene afterwards by one rotation + shift."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.synthetic.aircraft_shapes import AircraftShape, random_shape
from engine.synthetic.objects import MAX_WINGSPAN_PX, MIN_WINGSPAN_PX, REFERENCE_GSD_M, draw_wingspan_px


@dataclass(frozen=True)
class LocalRect:
    """A painted rectangle in the airport frame; height_px > 0 makes it a building with a shadow."""

    u: float
    v: float
    half_u: float
    half_v: float
    rel_angle_rad: float
    level: float
    texture: float
    height_px: float = 0.0


@dataclass(frozen=True)
class LocalPlane:
    """An aircraft in the airport frame."""

    u: float
    v: float
    rel_heading_rad: float
    wingspan_px: float
    shape: AircraftShape
    level: float


@dataclass(frozen=True)
class AirportPlan:
    """Everything of one airport, plus the apron centres (to aim the airport at a point of the scene)."""

    rects: tuple[LocalRect, ...]
    planes: tuple[LocalPlane, ...]
    apron_centres: tuple[tuple[float, float], ...]
    runway_length_px: float


def aircraft_level(rng: np.random.Generator, bright_level: float) -> float:
    """Mostly white paint; some grey or dark liveries."""
    draw = rng.random()
    if draw < 0.8:
        return bright_level * float(rng.uniform(0.9, 1.04))
    if draw < 0.95:
        return bright_level * float(rng.uniform(0.55, 0.75))
    return bright_level * float(rng.uniform(0.3, 0.42))


def plan_airport(
    rng: np.random.Generator,
    runway_length_px: float,
    gsd_m: float,
    concrete_level: float,
    bright_level: float,
    building_level: float,
) -> AirportPlan:
    """Runway, parallel taxiway and connectors, 1-3 aprons with rows of parked aircraft, terminals."""
    scale = REFERENCE_GSD_M / gsd_m
    length = runway_length_px
    side = float(rng.choice([-1.0, 1.0]))
    rects = [
        LocalRect(
            0.0,
            0.0,
            length / 2,
            rng.uniform(11, 15) * scale,
            0.0,
            concrete_level * rng.uniform(0.95, 1.05),
            0.06,
        )
    ]
    taxi_v = side * rng.uniform(60, 110) * scale
    taxi_level = concrete_level * rng.uniform(0.82, 0.95)
    rects.append(LocalRect(0.0, taxi_v, length * 0.46, 5.5 * scale, 0.0, taxi_level, 0.08))
    for u in rng.uniform(-0.45, 0.45, size=int(rng.integers(2, 5))) * length:
        rects.append(LocalRect(float(u), taxi_v / 2, 5.0 * scale, abs(taxi_v) / 2, 0.0, taxi_level, 0.08))
    planes: list[LocalPlane] = []
    apron_centres = []
    n_aprons = int(rng.integers(1, 4))
    segment = length * 0.9 / n_aprons
    for index in range(n_aprons):
        apron_len = min(segment * rng.uniform(0.5, 0.9), 900 * scale)
        depth = rng.uniform(90, 220) * scale
        u = -length * 0.45 + segment * (index + 0.5) + rng.uniform(-0.05, 0.05) * segment
        v = taxi_v + side * (5.5 * scale + depth / 2)
        rects.append(
            LocalRect(u, v, apron_len / 2, depth / 2, 0.0, concrete_level * rng.uniform(0.88, 1.0), 0.1)
        )
        apron_centres.append((u, v))
        planes += _park_rows(rng, u, v, apron_len, depth, side, scale, bright_level)
        terminal_half_v = rng.uniform(8, 20) * scale
        rects.append(
            LocalRect(
                u + rng.uniform(-0.2, 0.2) * apron_len,
                v + side * (depth / 2 + terminal_half_v + 4 * scale),
                apron_len * rng.uniform(0.15, 0.35),
                terminal_half_v,
                0.0,
                building_level * rng.uniform(0.8, 1.2),
                0.03,
                rng.uniform(3, 7) * scale,
            )
        )
    if rng.random() < 0.5:  # general-aviation apron: many small aircraft packed together
        ga_len, ga_depth = rng.uniform(80, 200) * scale, rng.uniform(40, 80) * scale
        u = side * length * rng.uniform(0.3, 0.42)
        v = -taxi_v - side * (20 * scale + ga_depth / 2)
        rects.append(
            LocalRect(u, v, ga_len / 2, ga_depth / 2, 0.0, concrete_level * rng.uniform(0.75, 0.95), 0.12)
        )
        planes += _park_rows(rng, u, v, ga_len, ga_depth, -side, scale, bright_level, small=True)
    for _ in range(int(rng.binomial(2, 0.4))):  # taxiing or lined up for take-off
        on_runway = rng.random() < 0.3
        span = float(np.clip(draw_wingspan_px(rng, gsd_m), 14 * scale, MAX_WINGSPAN_PX * scale))
        planes.append(
            LocalPlane(
                rng.uniform(-0.4, 0.4) * length,
                0.0 if on_runway else taxi_v,
                float(rng.choice([0.0, math.pi])) + rng.normal(0, 0.03),
                span,
                random_shape(rng, span),
                aircraft_level(rng, bright_level),
            )
        )
    for _ in range(int(rng.integers(0, 5))):  # hangars: large bright boxes, aircraft-sized and bigger
        half_u, half_v = rng.uniform(10, 35) * scale, rng.uniform(8, 25) * scale
        hangar = LocalRect(
            rng.uniform(-0.45, 0.45) * length,
            taxi_v + side * (rng.uniform(10, 300) * scale + half_v),  # beyond the taxiway, off the runway
            half_u,
            half_v,
            0.0,
            building_level * rng.uniform(0.7, 1.3),
            0.03,
            rng.uniform(3, 8) * scale,
        )
        if not _covers_a_plane(hangar, planes):
            rects.append(hangar)
    return AirportPlan(tuple(rects), tuple(planes), tuple(apron_centres), length)


def _park_rows(
    rng: np.random.Generator,
    u_c: float,
    v_c: float,
    apron_len: float,
    depth: float,
    side: float,
    scale: float,
    bright_level: float,
    small: bool = False,
) -> list[LocalPlane]:
    """Rows of parked aircraft along the apron, noses mostly towards the terminal side."""
    planes = []
    margin = 4.0 * scale
    cursor = depth / 2 - margin  # distance left on the far (terminal) side of the apron centre
    occupancy = rng.uniform(0.45, 0.95)
    while True:
        if small:
            span0 = float(rng.uniform(MIN_WINGSPAN_PX, 12.0)) * scale
        else:
            span0 = float(draw_wingspan_px(rng, REFERENCE_GSD_M / scale))
        row_depth = span0 * 1.45 + 2 * scale
        if cursor - row_depth < -depth / 2 + margin:
            break
        v_row = v_c + side * (cursor - row_depth / 2)
        cursor -= row_depth + rng.uniform(2, 10) * scale
        pitch = span0 * rng.uniform(1.2, 1.55)
        facing = side if rng.random() < 0.8 else -side
        shape = random_shape(rng, span0)
        count = int((apron_len - 2 * margin) // pitch)
        start = u_c - count * pitch / 2 + pitch / 2
        for k in range(count):
            if rng.random() > occupancy:
                continue
            span = float(
                np.clip(span0 * rng.uniform(0.92, 1.08), MIN_WINGSPAN_PX * scale, MAX_WINGSPAN_PX * scale)
            )
            planes.append(
                LocalPlane(
                    start + k * pitch,
                    v_row,
                    facing * math.pi / 2 + rng.normal(0, 0.05),
                    span,
                    shape,
                    aircraft_level(rng, bright_level),
                )
            )
    return planes


def _covers_a_plane(rect: LocalRect, planes: list[LocalPlane]) -> bool:
    """Whether an axis-aligned (airport frame) rect, with its shadow reach, comes near any aircraft."""
    reach = rect.height_px + 2.0
    return any(
        abs(p.u - rect.u) < rect.half_u + reach + 0.7 * p.wingspan_px
        and abs(p.v - rect.v) < rect.half_v + reach + 0.7 * p.wingspan_px
        for p in planes
    )
