"""Every run-settings rule in one place: what an unset value means (the model's own), the limits, the checks.

The pipeline's RunPlan, the runtimes' score floor, the CLI, the archive, the plugin (through detect_raster),
evaluation and training all resolve and check their settings here, so a rule changed here changes for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import DetectConfig, ModelConfig
from engine.contract import GATE_OFF
from engine.errors import SettingsError

MIN_TILE_PX = 32  # below this a patch holds less than two stride-16 cells of the trunk


def score_threshold_for(model: ModelConfig, requested: float | None) -> float:
    """The score threshold of a run: the requested one, None meaning the model's recommended one."""
    return float(model.score_threshold if requested is None else requested)


def gate_threshold_for(model: ModelConfig, requested: float | None) -> float:
    """The gate threshold of a run: the requested one, None meaning the model's recommended one."""
    return float(model.gate_threshold if requested is None else requested)


def stream_gate_threshold(model: ModelConfig, requested: float | None, use_gate: bool) -> float:
    """What the patch stream compares gate scores with: GATE_OFF (every patch passes) when the gate is off."""
    return gate_threshold_for(model, requested) if use_gate else GATE_OFF


def check_fraction(option: str, value: float | None) -> None:
    """A threshold given by the user lies in [0, 1]."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise SettingsError(f"{option} must be in [0, 1], got {value:g}")


def check_tile_size(tile_size: int | None, fixed_patch_px: int | None = None) -> None:
    """A tile size is at least MIN_TILE_PX, and a model exported at a fixed patch size takes only that size."""
    if tile_size is None:
        return
    if tile_size < MIN_TILE_PX:
        raise SettingsError(f"the tile size must be at least {MIN_TILE_PX} px, got {tile_size}")
    if fixed_patch_px is not None and tile_size != fixed_patch_px:
        raise SettingsError(
            f"this model takes {fixed_patch_px} px patches; a tile size of {tile_size} px is not possible"
        )


@dataclass(frozen=True)
class RunSettings:
    """A run's thresholds and tiling once the model's values fill what the user left open, checked."""

    score_threshold: float
    gated: bool
    gate_threshold: float  # the model's or the requested one, also when the gate is off (reports use it)
    tile_px: int
    overlap: float
    cascade: bool = False  # the first look runs: on by default, never with the gate off (the plain pipeline)

    @property
    def stream_gate_threshold(self) -> float:
        """GATE_OFF with the gate off: every patch goes through the detector."""
        return self.gate_threshold if self.gated else GATE_OFF

    @classmethod
    def resolve(cls, config: DetectConfig, model: ModelConfig, fixed_patch_px: int | None = None) -> RunSettings:
        """The settings of `config` for this model (fixed_patch_px: the only size a fixed-shape graph takes)."""
        check_fraction("the score threshold", config.score_threshold)
        check_tile_size(config.tile_size, fixed_patch_px)
        return cls(
            score_threshold=score_threshold_for(model, config.score_threshold),
            gated=config.use_gate,
            gate_threshold=gate_threshold_for(model, config.gate_threshold),
            tile_px=int(config.tile_size or model.patch_size),
            overlap=float(model.overlap if config.overlap is None else config.overlap),
            cascade=bool(config.cascade and config.use_gate),
        )

    @classmethod
    def for_detector(cls, config: DetectConfig, detector) -> RunSettings:
        """resolve() for a loaded detector: its model, and its fixed patch size when its graph has one."""
        return cls.resolve(config, detector.config, getattr(detector, "patch_size", None))
