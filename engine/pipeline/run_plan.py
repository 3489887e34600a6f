"""A run's plan: its settings (engine.runtime.run_settings) with how the patches stream, and its extent."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.config import DetectConfig
from engine.errors import RasterInputError
from engine.pipeline.georef import extent_map_to_region_raster_px
from engine.pipeline.patch_stream import StreamPlan
from engine.pipeline.scene import Scene
from engine.runtime.run_settings import RunSettings
from engine.runtime.types import Detector


@dataclass(frozen=True)
class RunPlan:
    """The run's settings (engine.runtime.run_settings, the one home of their rules) and how it streams."""

    settings: RunSettings
    batch_size: int
    window_patches: int = 0  # > 1: the window path (a window-graph model); 0: per patch
    merge_ios: float = 0.5
    prescreen: bool = True
    detector_filters_scores: bool = False  # the detector already drops boxes under score_threshold

    @classmethod
    def of(cls, config: DetectConfig, detector: Detector) -> RunPlan:
        """The plan of `config` with this detector; SettingsError when a setting breaks a rule."""
        settings = RunSettings.for_detector(config, detector)
        windowed = (
            hasattr(detector, "run_windows") and config.window_patches > 1
            and settings.tile_px == detector.config.patch_size
        )
        floor = getattr(detector, "min_score", None)
        return cls(
            settings=settings,
            batch_size=max(1, config.batch_size),
            window_patches=int(config.window_patches) if windowed else 0,
            merge_ios=config.merge_ios,
            prescreen=config.prescreen,
            detector_filters_scores=floor is not None and floor >= settings.score_threshold,
        )

    @property
    def cascade(self) -> bool:
        """The first look runs (never without the gate: --no-gate sends every patch on)."""
        return self.settings.cascade

    @property
    def score_threshold(self) -> float:
        return self.settings.score_threshold

    @property
    def gated(self) -> bool:
        return self.settings.gated

    @property
    def gate_threshold(self) -> float:
        """What the stream compares gate scores with: GATE_OFF with --no-gate (every patch is detected)."""
        return self.settings.stream_gate_threshold

    @property
    def tile_px(self) -> int:
        return self.settings.tile_px

    @property
    def overlap(self) -> float:
        return self.settings.overlap

    @property
    def score_filter(self) -> float | None:
        """The threshold the pipeline still applies, None when the detector applied it (once, either way)."""
        return None if self.detector_filters_scores else self.settings.score_threshold

    @property
    def stream(self) -> StreamPlan:
        """What the patch stream needs of it."""
        return StreamPlan(self.tile_px, self.gate_threshold, self.window_patches, self.batch_size, self.overlap)


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
