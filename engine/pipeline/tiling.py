"""Pure tile grid over a scene in model-gsd pixels (SAHI slicing-like): overlap, last tile flush with edge."""

from __future__ import annotations

import math

import numpy as np

MAX_MODEL_PX = 2**62  # a scene size that stands for "too large to plan": beyond any memory bound


def tile_stride_px(tile_size_px: int, overlap: float) -> int:
    """Step between tile origins: the paper's 640 px with 20 % overlap steps by 512 px."""
    if tile_size_px < 1:
        raise ValueError(f"tile size must be >= 1 px, got {tile_size_px}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    return max(1, tile_size_px - int(round(tile_size_px * overlap)))


def tile_origins_1d(start_px: int, stop_px: int, tile_size_px: int, stride_px: int) -> list[int]:
    """Origins covering [start, stop): regular steps, the last one flush with stop; one tile if it fits."""
    length = stop_px - start_px
    if length <= tile_size_px:
        return [start_px]  # smaller than a patch: one tile, padded past the edge when read
    last = stop_px - tile_size_px
    origins = list(range(start_px, last, stride_px))
    if origins[-1] != last:
        origins.append(last)
    return origins


def tile_count_1d(length_px: float, tile_size_px: int, stride_px: int) -> int:
    """How many origins tile_origins_1d gives over a length, from arithmetic alone (any size, even 1e300)."""
    if not length_px > tile_size_px:
        return 1
    if not math.isfinite(length_px):
        raise OverflowError("an infinite extent has no tile count")
    return math.ceil((length_px - tile_size_px) / stride_px) + 1


def tile_grid(
    width_px: int,
    height_px: int,
    tile_size_px: int,
    overlap: float,
    region_px: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Tile origins (T, 2) as (x0, y0), row-major, covering the scene or a sub-region (x0, y0, x1, y1).

    Every tile is tile_size_px square; it runs past the scene only when the scene (or region) is
    smaller than a tile, and the reader pads that part.
    """
    if width_px < 1 or height_px < 1:
        raise ValueError(f"scene must be at least 1 x 1 px, got {width_px} x {height_px}")
    x_start, y_start, x_stop, y_stop = region_px if region_px is not None else (0, 0, width_px, height_px)
    x_start, y_start = max(0, x_start), max(0, y_start)
    x_stop, y_stop = min(width_px, x_stop), min(height_px, y_stop)
    if x_stop <= x_start or y_stop <= y_start:
        return np.zeros((0, 2), dtype=np.int64)
    stride = tile_stride_px(tile_size_px, overlap)
    # A region near the scene's far edge still gets full tiles when the scene allows it.
    x_origins = tile_origins_1d(x_start, x_stop, tile_size_px, stride)
    y_origins = tile_origins_1d(y_start, y_stop, tile_size_px, stride)
    x_origins = [_shift_inside(x, tile_size_px, width_px) for x in x_origins]
    y_origins = [_shift_inside(y, tile_size_px, height_px) for y in y_origins]
    ys, xs = np.meshgrid(np.asarray(y_origins), np.asarray(x_origins), indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.int64)


def _shift_inside(origin_px: int, tile_size_px: int, extent_px: int) -> int:
    """Move a tile that would hang past the scene back inside it when the scene is large enough."""
    return max(0, min(origin_px, extent_px - tile_size_px)) if extent_px >= tile_size_px else 0


def scene_size_model_px(
    width_raster_px: int, height_raster_px: int, scale_x: float, scale_y: float
) -> tuple[int, int]:
    """Scene size in model pixels, where scale = raster px per model px along each axis.

    An absurd scale (--gsd 1e300) gives a huge but finite size, which the scene planner then refuses.
    """
    return _model_px(width_raster_px, scale_x), _model_px(height_raster_px, scale_y)


def _model_px(size_raster_px: int, scale: float) -> int:
    size = size_raster_px / scale if scale > 0 else math.inf
    return max(1, min(MAX_MODEL_PX, math.ceil(size - 1e-6))) if math.isfinite(size) else MAX_MODEL_PX

