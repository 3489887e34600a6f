"""Raster pixels <-> map coordinates with the full affine (rotation and shear terms included)."""

from __future__ import annotations

import math

import numpy as np
from affine import Affine

# WGS 84 ellipsoid: metres per degree depend on latitude, which matters for scenes far from the equator.
_WGS84_A_M = 6378137.0
_WGS84_E2 = 6.69437999014e-3


def raster_px_to_map(points_raster_px: np.ndarray, transform: Affine) -> np.ndarray:
    """Map (..., 2) pixel-edge (col, row) coordinates through x = a*col + b*row + c, y = d*col + e*row + f."""
    points = np.asarray(points_raster_px, dtype=np.float64)
    cols, rows = points[..., 0], points[..., 1]
    x_map = transform.a * cols + transform.b * rows + transform.c
    y_map = transform.d * cols + transform.e * rows + transform.f
    return np.stack([x_map, y_map], axis=-1)


def map_to_raster_px(points_map: np.ndarray, transform: Affine) -> np.ndarray:
    """Inverse of raster_px_to_map (processing extents given in map units)."""
    return raster_px_to_map(points_map, ~transform)


def box_rings_raster_px(boxes_raster_px: np.ndarray) -> np.ndarray:
    """Closed rings (D, 5, 2) of axis-aligned (x0, y0, x1, y1) boxes, clockwise on screen."""
    boxes = np.asarray(boxes_raster_px, dtype=np.float64).reshape(-1, 4)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return np.stack([np.stack(corner, axis=-1) for corner in corners], axis=1)


def box_rings_map(boxes_raster_px: np.ndarray, transform: Affine) -> np.ndarray:
    """Boxes in raster px -> closed rings (D, 5, 2) in the raster CRS; rotated grids give rotated boxes."""
    return raster_px_to_map(box_rings_raster_px(boxes_raster_px), transform)


def extent_map_to_region_raster_px(
    extent_map: tuple[float, float, float, float], transform: Affine, width_px: int, height_px: int
) -> tuple[int, int, int, int] | None:
    """A processing extent (xmin, ymin, xmax, ymax) in map units -> the raster px window under it, or None."""
    xmin, ymin, xmax, ymax = extent_map
    corners_map = np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]], dtype=np.float64)
    corners_px = map_to_raster_px(corners_map, transform)
    col0 = max(0, int(math.floor(corners_px[:, 0].min())))
    row0 = max(0, int(math.floor(corners_px[:, 1].min())))
    col1 = min(width_px, int(math.ceil(corners_px[:, 0].max())))
    row1 = min(height_px, int(math.ceil(corners_px[:, 1].max())))
    if col1 <= col0 or row1 <= row0:
        return None
    return col0, row0, col1, row1


def metres_per_degree(latitude_deg: float) -> tuple[float, float]:
    """(east, north) metres per degree of longitude / latitude on WGS 84 at a latitude."""
    phi = math.radians(latitude_deg)
    w = math.sqrt(1.0 - _WGS84_E2 * math.sin(phi) ** 2)
    prime_vertical_m = _WGS84_A_M / w
    meridional_m = _WGS84_A_M * (1.0 - _WGS84_E2) / w**3
    return math.radians(1.0) * prime_vertical_m * math.cos(phi), math.radians(1.0) * meridional_m


def pixel_size_map_units(transform: Affine) -> tuple[float, float]:
    """Length of one pixel step along columns and along rows, in map units (valid for rotated grids too)."""
    return math.hypot(transform.a, transform.d), math.hypot(transform.b, transform.e)


def pixel_size_m(
    transform: Affine, is_geographic: bool, units_to_m: float, centre_latitude_deg: float | None = None
) -> tuple[float, float]:
    """Ground size (x, y) of a pixel in metres: projected units scaled, degrees at the scene latitude."""
    if not is_geographic:
        step_col, step_row = pixel_size_map_units(transform)
        return step_col * units_to_m, step_row * units_to_m
    east_m, north_m = metres_per_degree(centre_latitude_deg or 0.0)
    # A column step moves (a, d) degrees in (lon, lat); a row step (b, e).
    return (
        math.hypot(transform.a * east_m, transform.d * north_m),
        math.hypot(transform.b * east_m, transform.e * north_m),
    )


def transform_problem(transform: Affine) -> str | None:
    """Why a geotransform cannot map pixels to the ground (non-finite, zero-size or singular), or None."""
    coefficients = (transform.a, transform.b, transform.c, transform.d, transform.e, transform.f)
    if not all(math.isfinite(v) for v in coefficients):
        return "has non-finite terms"
    if min(pixel_size_map_units(transform)) == 0:
        return "gives a zero pixel size"
    if transform.determinant == 0 or not math.isfinite(1.0 / transform.determinant):
        return "is singular (its rows and columns map onto one line)"
    return None
