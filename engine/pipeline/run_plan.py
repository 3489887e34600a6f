"""A run's settings once the model's recommendations fill what the user left open, and its extent."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.config import DetectConfig
from engine.contract import GATE_OFF
from engine.errors import RasterInputError
from engine.pipeline.georef import extent_map_to_region_raster_px
from engine.pipeline.patch_stream import StreamPlan
from engine.pipeline.scene import Scene
from engine.runtime.types import Detector


@dataclass(frozen=True)
class RunPlan:
    """The run's settings once the model's recommendations fill what the user left open."""

    score_threshold: float
    gated: bool
    gate_threshold: float  # GATE_OFF with --no-gate: every patch goes through the detector
    tile_px: int
    overlap: float
    batch_size: int
    window_patches: int = 0  # > 1: the window path (a window-graph model); 0: per patch
    merge_ios: float = 0.5
    prescreen: bool = True

    @classmethod
    def of(cls, config: DetectConfig, detector: Detector) -> RunPlan:
        model = detector.config
        gate = model.gate_threshold if config.gate_threshold is None else config.gate_threshold
        tile_px = config.tile_size or model.patch_size
        windowed = hasattr(detector, "run_windows") and config.window_patches > 1 and tile_px == model.patch_size
        return cls(
            score_threshold=model.score_threshold if config.score_threshold is None else config.score_threshold,
            gated=config.use_gate,
            gate_threshold=gate if config.use_gate else GATE_OFF,
            tile_px=tile_px,
            overlap=model.overlap if config.overlap is None else config.overlap,
            batch_size=max(1, config.batch_size),
            window_patches=int(config.window_patches) if windowed else 0,
            merge_ios=config.merge_ios,
            prescreen=config.prescreen,
        )

    @property
    def stream(self) -> StreamPlan:
        """What the patch stream needs of it."""
        return StreamPlan(self.tile_px, self.gate_threshold, self.window_patches, self.batch_size)


def region_raster_px(scene: Scene, extent_map: tuple[float, float, float, float] | None) -> tuple[int, int, int, int]:
    """The processing extent in raster px: the whole scene, or the part under extent_map (raster CRS)."""
    if extent_map is None:
        return 0, 0, scene.width_px, scene.height_px
    region = extent_map_to_region_raster_px(extent_map, scene.transform, scene.width_px, scene.height_px)
    if region is None:
        raise RasterInputError(f"{scene.path}: the processing extent does not overlap the raster")
    return region


def region_model_px(region_px: tuple[int, int, int, int], scale_xy: tuple[float, float]) -> tuple[int, ...]:
    """Raster px region -> model px region covering it."""
    sx, sy = scale_xy
    x0, y0, x1, y1 = region_px
    return (
        int(math.floor(x0 / sx)),
        int(math.floor(y0 / sy)),
        int(math.ceil(x1 / sx)),
        int(math.ceil(y1 / sy)),
    )
