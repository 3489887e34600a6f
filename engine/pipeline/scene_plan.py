"""A scene planned from its header alone, before any pixel is read: the patch count, the upsampling and
the memory they need, or a one-line refusal (far too coarse for aircraft, absurd overlap, past the bound).

Nothing here builds a grid: counts come from arithmetic (tiling.tile_count_1d), so a 1e300 m --gsd costs
nothing to refuse.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from engine.errors import RasterInputError
from engine.pipeline.tiling import tile_count_1d, tile_stride_px

TYPICAL_AIRCRAFT_M = 36.0  # an A320 / 737: the middle of the 12-120 m the model is made for
MIN_AIRCRAFT_PX = 3.0  # below this in the raster, upsampling invents the aircraft rather than finds it
MAX_DOWNSAMPLING = 100.0  # 2 cm for a 2 m model: finer than drone images, so a unit error (degrees, mm)
MAX_OVERLAP = 0.75  # 16 x the patches of a grid without overlap; the model's 0.2 is 1.56 x
BYTES_PER_PATCH = 64  # what grows with the grid: origins, gate score, nodata flags and their temporaries
NETWORK_BYTES_PER_PX = 480  # input tensor and activations per network input pixel (README peaks, fp32)
READ_AHEAD_WINDOWS = 2  # patch_stream's read-ahead depth on the window path (per patch: 2 x batch)
MEMORY_CAP_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class ScenePlan:
    """What a run over one scene will cost, known before it starts."""

    patches_xy: tuple[int, int]
    upsampling: float  # model px per raster px on the coarser axis (> 1: the raster is coarser than the model)
    aircraft_px: float  # a TYPICAL_AIRCRAFT_M aircraft's length in raster px
    grid_bytes: int  # what grows with the patch count
    buffer_bytes: int  # reads in flight and the network's input and activations

    @property
    def patches(self) -> int:
        return self.patches_xy[0] * self.patches_xy[1]

    @property
    def memory_bytes(self) -> int:
        return self.grid_bytes + self.buffer_bytes


def memory_bound_bytes() -> int:
    """What a plan may use: half the machine's memory, at most MEMORY_CAP_BYTES."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 2 * MEMORY_CAP_BYTES
    return int(min(MEMORY_CAP_BYTES, physical // 2))


def plan_scene(
    name: str,
    size_raster_px: tuple[int, int],
    gsd_xy_m: tuple[float, float],
    model_gsd_m: float,
    tile_px: int,
    overlap: float,
    bands: int = 1,
    dtype: str = "uint8",
    per_window: int = 0,
    batch_size: int = 4,
    region_raster_px: tuple[int, int, int, int] | None = None,
    force: bool = False,
) -> ScenePlan:
    """The plan of one scene, or RasterInputError with one line saying why it is not run."""
    if not 0.0 <= overlap <= MAX_OVERLAP:
        factor = 1.0 / (1.0 - overlap) ** 2 if overlap < 1 else math.inf
        raise RasterInputError(
            f"overlap {overlap:g} would multiply the patches by {factor:,.0f} (at most {MAX_OVERLAP:g}, "
            f"x{1 / (1 - MAX_OVERLAP) ** 2:.0f})"
        )
    if not all(g > 0 and math.isfinite(g) for g in gsd_xy_m):
        raise RasterInputError(f"{name}: pixel size {gsd_xy_m} m is not usable (check its geotransform, or give --gsd)")
    coarsest_m = max(gsd_xy_m)
    aircraft_px = TYPICAL_AIRCRAFT_M / coarsest_m
    if aircraft_px < MIN_AIRCRAFT_PX and not force:
        raise RasterInputError(
            f"{name}: ground resolution {_metres(coarsest_m)} is far coarser than the model's {_metres(model_gsd_m)}: "
            f"a {TYPICAL_AIRCRAFT_M:g} m aircraft would be {aircraft_px:.2g} px (under {MIN_AIRCRAFT_PX:g}); not run "
            f"(correct the resolution with --gsd, or --force to run anyway)"
        )
    finest_m = min(gsd_xy_m)
    if finest_m < model_gsd_m / MAX_DOWNSAMPLING and not force:
        raise RasterInputError(
            f"{name}: ground resolution {_metres(finest_m)} is {model_gsd_m / finest_m:,.0f} x finer than the model's "
            f"{_metres(model_gsd_m)}, past any aerial image: its geotransform is likely not in metres (degrees? "
            f"another unit?); not run (correct the resolution with --gsd, or --force to run anyway)"
        )
    width, height = size_raster_px
    x0, y0, x1, y1 = region_raster_px or (0, 0, width, height)
    stride = tile_stride_px(tile_px, overlap)
    try:
        length_x = _length_model_px(x0, x1, width, model_gsd_m / gsd_xy_m[0])
        length_y = _length_model_px(y0, y1, height, model_gsd_m / gsd_xy_m[1])
        patches_xy = (tile_count_1d(length_x, tile_px, stride), tile_count_1d(length_y, tile_px, stride))
    except (OverflowError, ZeroDivisionError):
        length_x = length_y = math.inf
        patches_xy = (2**62, 2**62)  # beyond any bound, refused below
    plan = ScenePlan(
        patches_xy=patches_xy,
        upsampling=coarsest_m / model_gsd_m,
        aircraft_px=aircraft_px,
        grid_bytes=patches_xy[0] * patches_xy[1] * BYTES_PER_PATCH,
        buffer_bytes=_buffer_bytes(
            patches_xy, (length_x, length_y), tile_px, stride, bands, dtype, per_window, batch_size
        ),
    )
    bound = memory_bound_bytes()
    if plan.memory_bytes > bound:
        upsampled = f", upsampled x{plan.upsampling:.3g}" if plan.upsampling > 1 else ""
        raise RasterInputError(
            f"{name}: {_count(plan.patches)} patches of {tile_px} px (raster {width} x {height} px at "
            f"{_metres(coarsest_m)}, model {_metres(model_gsd_m)}{upsampled}) would need "
            f"{_bytes(plan.memory_bytes)}, past the {_bytes(bound)} bound; not run (check --gsd, --tile-size, "
            f"--window-patches, --batch-size)"
        )
    return plan


def check_scene(
    scene, plan, region_raster_px: tuple[int, int, int, int] | None = None, force: bool = False
) -> ScenePlan:
    """plan_scene for an open RasterScene and a RunPlan (tile, overlap, window or batch size)."""
    return plan_scene(
        os.path.basename(scene.path), (scene.width_px, scene.height_px), tuple(scene.gsd_xy_m), scene.model_gsd_m,
        plan.tile_px, plan.overlap, len(scene.band_indexes), scene.dtype, plan.window_patches, plan.batch_size,
        region_raster_px, force,
    )


def _length_model_px(start_px: int, stop_px: int, size_px: int, scale: float) -> float:
    """Model px covered by a raster px span, as tile_grid sees it (region_model_px, clamped to the scene)."""
    size_model = math.ceil(size_px / scale - 1e-6)
    return float(min(size_model, math.ceil(stop_px / scale)) - max(0, math.floor(start_px / scale)))


def _buffer_bytes(patches_xy, lengths_px, tile_px: int, stride: int, bands: int, dtype: str, per_window: int,
                  batch: int) -> int:
    """Reads in flight (raw, 8-bit, padded, masks) and the network's input plus activations."""
    per_px_read = bands * (np.dtype(dtype).itemsize + 2) + 2
    if per_window > 1:  # a window spans at most per_window patches, and never more than the scene
        side_x, side_y = (
            min((min(per_window, n) - 1) * stride + tile_px, max(tile_px, math.ceil(min(length, 2.0**62))))
            for n, length in zip(patches_xy, lengths_px, strict=True)
        )
        unit_px, in_flight, network_px = side_x * side_y, READ_AHEAD_WINDOWS + 2, side_x * side_y
    else:
        unit_px = tile_px * tile_px
        in_flight, network_px = 2 * batch + 2, min(batch, patches_xy[0] * patches_xy[1]) * unit_px
    return in_flight * unit_px * per_px_read + network_px * NETWORK_BYTES_PER_PX


def _metres(value_m: float) -> str:
    return f"{value_m / 1000:.3g} km" if value_m >= 1000 else f"{value_m:.3g} m"


def _count(value: int) -> str:
    return f"{value:,}" if value < 10**12 else _huge(value)


def _huge(value: int) -> str:
    """1.2e+303 for any int, even past float's range."""
    digits = str(value)
    return f"{digits[0]}.{digits[1]}e+{len(digits) - 1}"


def _bytes(value: int) -> str:
    if value >= 10**15:
        return f"{_huge(value)} bytes"
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value / 1e3:.3g} kB"
