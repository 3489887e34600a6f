"""Per-scene look (radiometry, sun, land cover) drawn from the seed, and the low-frequency noise that
decides where water is (shared by the layout, which keeps buildings off it, and the renderer)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.synthetic.noise import fractal_noise
from engine.synthetic.objects import REFERENCE_GSD_M

# Two octaves at unrelated spacings hide the lattice of low-frequency value noise.
LAND_SPACINGS_PX, LAND_GAINS = (1900.0, 610.0), (1.0, 0.45)
WATER_SPACINGS_PX, WATER_GAINS = (1300.0, 470.0), (1.0, 0.45)


def water_noise(seed: int, row0: int, col0: int, height: int, width: int) -> np.ndarray:
    """The low-frequency noise whose low values are water (shared by layout and renderer)."""
    return fractal_noise(seed, 3, WATER_SPACINGS_PX, WATER_GAINS, row0, col0, height, width)


def on_water(seed: int, style: SceneStyle, x: float, y: float) -> bool:
    """Whether a point is (near) water, so no building or stray aircraft lands there."""
    value = water_noise(seed, int(math.floor(y)), int(math.floor(x)), 1, 1)[0, 0]
    return bool(value < style.water_threshold + 0.03)


@dataclass(frozen=True)
class SceneStyle:
    """Per-scene radiometry and look (DN of a 10-bit-like sensor), drawn from the seed."""

    ground_level: float
    ground_contrast: float
    field_threshold: float  # land-cover noise above it: agricultural parcels
    parcel_angle_rad: float
    strip_width_px: float
    water_threshold: float  # another noise below it: water
    concrete_level: float
    aircraft_level: float
    building_level: float
    sun_azimuth_rad: float  # direction shadows fall to
    shadow_scale: float  # aircraft shadow length / wingspan
    shadow_strength: float
    noise_sigma: float


def draw_style(rng: np.random.Generator, gsd_m: float) -> SceneStyle:
    """Random but plausible GF-1 panchromatic look."""
    ground = float(rng.uniform(280, 470))
    return SceneStyle(
        ground_level=ground,
        ground_contrast=float(rng.uniform(0.8, 1.6)),
        field_threshold=float(rng.uniform(0.35, 0.65)),
        parcel_angle_rad=float(rng.uniform(0, math.pi / 2)),
        strip_width_px=float(rng.uniform(40, 120)) * REFERENCE_GSD_M / gsd_m,
        water_threshold=float(rng.uniform(0.02, 0.2)),
        concrete_level=float(rng.uniform(max(ground * 1.25, 520), 760)),
        aircraft_level=float(rng.uniform(820, 980)),
        building_level=float(rng.uniform(550, 900)),
        sun_azimuth_rad=float(rng.uniform(0, 2 * math.pi)),
        shadow_scale=float(rng.uniform(0.06, 0.14)),
        shadow_strength=float(rng.uniform(0.3, 0.55)),
        noise_sigma=float(rng.uniform(4, 12)),
    )
