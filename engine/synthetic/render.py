"""Render any window of a SceneLayout to raw DN: each pixel depends only on the layout and its global
position, so a scene written block by block equals the scene rendered at once."""

from __future__ import annotations

import math

import numpy as np

from engine.synthetic.aircraft_shapes import convex_union_coverage, rotated_rect_coverage
from engine.synthetic.layout import SceneLayout
from engine.synthetic.noise import (
    fractal_noise,
    hash_u32,
    pixel_noise,
    salted_key,
    uniform_grid,
    value_noise,
)
from engine.synthetic.objects import intersecting
from engine.synthetic.style import LAND_GAINS, LAND_SPACINGS_PX, water_noise
from engine.synthetic.valid_footprint import edge_distances

TEXTURE_SPACINGS_PX = (700.0, 160.0, 40.0, 10.0, 3.0)
TEXTURE_GAINS = (1.0, 0.8, 0.6, 0.45, 0.35)
MAX_DN = 1023.0  # 10-bit-like sensor range; 0 is nodata


def render_window(
    layout: SceneLayout, row0: int, col0: int, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(values float32 (h, w) in 1..1023 on valid data and 0 elsewhere, valid bool (h, w))."""
    valid = footprint_valid(layout, row0, col0, height, width)
    if not valid.any():
        return np.zeros((height, width), dtype=np.float32), valid
    style, seed = layout.style, layout.seed
    texture = fractal_noise(
        seed, 1, TEXTURE_SPACINGS_PX, TEXTURE_GAINS, row0, col0, height, width
    ) - np.float32(0.5)
    image = np.float32(style.ground_level) * (np.float32(1.0) + np.float32(style.ground_contrast) * texture)
    _paint_fields(layout, image, texture, row0, col0)
    _paint_water(layout, image, texture, row0, col0)
    _paint_surfaces(layout, image, texture, row0, col0)
    _paint_planes(layout, image, row0, col0)
    image += np.float32(style.noise_sigma * math.sqrt(6.0)) * pixel_noise(seed, 5, row0, col0, height, width)
    np.clip(image, 1.0, MAX_DN, out=image)
    image[~valid] = 0.0
    return image, valid


def footprint_valid(layout: SceneLayout, row0: int, col0: int, height: int, width: int) -> np.ndarray:
    """Valid-data mask of the window: inside the footprint quad, whose edge wobbles by a few pixels."""
    if layout.footprint is None:
        return np.ones((height, width), dtype=bool)
    margin = layout.wobble_px + 1.0
    corner_x = np.array([col0, col0 + width, col0 + width, col0], dtype=np.float64)
    corner_y = np.array([row0, row0, row0 + height, row0 + height], dtype=np.float64)
    corners = edge_distances(layout.footprint, corner_x, corner_y)
    if corners.min() >= margin:  # convex footprint: all corners well inside means the whole window is
        return np.ones((height, width), dtype=bool)
    if (corners.max(axis=1) <= -margin).any():  # all corners beyond one edge
        return np.zeros((height, width), dtype=bool)
    xs = np.arange(col0, col0 + width, dtype=np.float64)[None, :] + 0.5
    ys = np.arange(row0, row0 + height, dtype=np.float64)[:, None] + 0.5
    distance = edge_distances(layout.footprint, xs, ys).min(axis=0)
    wobble = value_noise(layout.seed, 4, 24.0, row0, col0, height, width) * np.float32(0.7)
    wobble += value_noise(layout.seed, 6, 5.0, row0, col0, height, width) * np.float32(0.3)
    return distance + layout.wobble_px * (2.0 * wobble.astype(np.float64) - 1.0) > 0.0


def _paint_fields(layout: SceneLayout, image: np.ndarray, texture: np.ndarray, row0: int, col0: int) -> None:
    """Agricultural parcels: strips of varying width cut into parcels, each with its own brightness."""
    style, seed = layout.style, layout.seed
    height, width = image.shape
    land = fractal_noise(seed, 2, LAND_SPACINGS_PX, LAND_GAINS, row0, col0, height, width)
    weight = np.clip((land - np.float32(style.field_threshold)) * np.float32(25.0), 0.0, 1.0)
    if not weight.any():
        return
    c, s = math.cos(style.parcel_angle_rad), math.sin(style.parcel_angle_rad)
    xs = np.arange(col0, col0 + width, dtype=np.float64)[None, :] + 0.5
    ys = np.arange(row0, row0 + height, dtype=np.float64)[:, None] + 0.5
    across = (xs * c + ys * s) / style.strip_width_px
    strip = np.floor(across)
    first = int(strip.min())
    strip_draws = uniform_grid(salted_key(seed, 7), np.arange(first, int(strip.max()) + 1), np.arange(2))
    parcel_len = (40.0 + 220.0 * strip_draws[:, 0].astype(np.float64)) * style.strip_width_px / 60.0
    offset = strip_draws[:, 1].astype(np.float64) * parcel_len
    local = strip.astype(np.int64) - first
    along = (ys * c - xs * s + offset[local]) / parcel_len[local]
    parcel = np.floor(along)
    words = (strip.astype(np.int64).astype(np.uint32) * np.uint32(0x9E3779B1)) ^ parcel.astype(
        np.int64
    ).astype(np.uint32)
    levels = _hash_uniform(words, salted_key(seed, 9)) * np.float32(0.85) + np.float32(0.6)
    # Paths and ditches between parcels: about one pixel, a little darker.
    edge_px = np.minimum(
        np.minimum(across - strip, strip + 1.0 - across) * style.strip_width_px,
        np.minimum(along - parcel, parcel + 1.0 - along) * parcel_len[local],
    )
    levels *= np.float32(1.0) - np.float32(0.18) * np.clip(1.2 - edge_px, 0.0, 1.0).astype(np.float32)
    parcels = (
        np.float32(style.ground_level)
        * levels
        * (np.float32(1.0) + np.float32(0.6 * style.ground_contrast) * texture)
    )
    image += weight * (parcels - image)


def _hash_uniform(words: np.ndarray, key: np.uint32) -> np.ndarray:
    """Uniform [0, 1) float32 per element of a uint32 array."""
    return (hash_u32(words ^ key) >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def _paint_water(layout: SceneLayout, image: np.ndarray, texture: np.ndarray, row0: int, col0: int) -> None:
    """Lakes and rivers: dark, smooth, where a low-frequency noise is low."""
    height, width = image.shape
    style = layout.style
    water = water_noise(layout.seed, row0, col0, height, width)
    weight = np.clip((np.float32(style.water_threshold) - water) * np.float32(60.0), 0.0, 1.0)
    if weight.any():
        level = np.float32(0.45 * style.ground_level) * (np.float32(1.0) + np.float32(0.15) * texture)
        image += weight * (level - image)


def _paint_surfaces(
    layout: SceneLayout, image: np.ndarray, texture: np.ndarray, row0: int, col0: int
) -> None:
    """Runways, aprons, roads and buildings (with their shadows) in drawing order."""
    height, width = image.shape
    for index in intersecting(layout.surface_boxes, col0, row0, col0 + width, row0 + height):
        surface = layout.surfaces[index]
        window = _clip_window(layout.surface_boxes[index], row0, col0, height, width)
        if window is None or not surface.touches(col0, row0, col0 + width, row0 + height):
            continue
        ys, xs = window
        cover = rotated_rect_coverage(
            surface.cx,
            surface.cy,
            surface.half_u,
            surface.half_v,
            surface.angle_rad,
            xs.start + col0,
            ys.start + row0,
            xs.stop - xs.start,
            ys.stop - ys.start,
        )
        region = image[ys, xs]
        if surface.is_shadow:
            region *= np.float32(1.0) - np.float32(surface.level) * cover
        else:
            target = np.float32(surface.level) * (
                np.float32(1.0) + np.float32(2.0 * surface.texture) * texture[ys, xs]
            )
            region += cover * (target - region)


def _paint_planes(layout: SceneLayout, image: np.ndarray, row0: int, col0: int) -> None:
    """Aircraft: shadow first, then wings and tail planes, then the brighter fuselage."""
    height, width = image.shape
    strength = np.float32(layout.style.shadow_strength)
    for index in intersecting(layout.plane_boxes, col0, row0, col0 + width, row0 + height):
        plane = layout.planes[index]
        window = _clip_window(layout.plane_boxes[index], row0, col0, height, width)
        if window is None:
            continue
        ys, xs = window
        args = (xs.start + col0, ys.start + row0, xs.stop - xs.start, ys.stop - ys.start)
        offset = np.array([plane.shadow_dx, plane.shadow_dy])
        region = image[ys, xs]
        shadow = convex_union_coverage([p + offset for p in (plane.fuselage, *plane.panels)], *args)
        region *= np.float32(1.0) - strength * shadow
        wings = convex_union_coverage(list(plane.panels), *args)
        region += wings * (np.float32(0.93 * plane.level) - region)
        body = convex_union_coverage([plane.fuselage], *args)
        region += body * (np.float32(plane.level) - region)


def _clip_window(
    box: np.ndarray, row0: int, col0: int, height: int, width: int
) -> tuple[slice, slice] | None:
    """Slices (rows, cols) of the window covered by an extent (x0, y0, x1, y1); None when empty."""
    x0 = max(int(math.floor(box[0])), col0) - col0
    y0 = max(int(math.floor(box[1])), row0) - row0
    x1 = min(int(math.ceil(box[2])), col0 + width) - col0
    y1 = min(int(math.ceil(box[3])), row0 + height) - row0
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1)
