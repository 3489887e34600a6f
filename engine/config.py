"""Frozen configuration shared by training, export, the runtimes and the pipeline."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

# The paper's six anchor scales (R2-CNN, stride 8); our reading: side = scale x 4 px at 2 m.
PAPER_ANCHOR_SCALES = (1.0, 2.0, 4.0, 10.0, 16.0, 30.0)
PAPER_ANCHOR_BASE_PX = 4.0


@dataclass(frozen=True)
class ModelConfig:
    """What a trained model needs to be used correctly; travels inside the ONNX file."""

    gsd_m: float = 2.0
    patch_size: int = 640
    overlap: float = 0.2
    in_channels: int = 3
    mean: tuple[float, float, float] = (110.0, 110.0, 110.0)
    std: tuple[float, float, float] = (50.0, 50.0, 50.0)
    anchor_stride: int = 8
    anchor_sizes_px: tuple[float, ...] = tuple(s * PAPER_ANCHOR_BASE_PX for s in PAPER_ANCHOR_SCALES)
    psroi_k: int = 7
    psroi_samples: int = 2
    rpn_pre_nms_top_n: int = 1000
    rpn_post_nms_top_n: int = 300
    rpn_nms_iou: float = 0.7
    det_nms_iou: float = 0.3
    score_threshold: float = 0.5
    gate_threshold: float = 0.5
    gate_pooling: str = "max"  # max: one aircraft lights a 640 px patch as much as a 320 px crop; mean: older files
    class_names: tuple[str, ...] = ("aircraft",)

    def to_json(self) -> str:
        """Serialise for the ONNX metadata and checkpoints."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Parse, ignoring unknown keys so newer files still load; lists become tuples."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"the configuration must be a JSON object, not a {type(raw).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names}
        kwargs.setdefault("gate_pooling", "mean")  # files written before the key existed pooled by the mean
        config = cls(**kwargs)
        check_model_config(config)
        return config


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# field -> (is the value right, what it must be): the schema a model file's (or checkpoint's) configuration obeys.
_SCHEMA = {
    "gsd_m": (lambda v: _number(v) and 0.01 <= v <= 1000, "metres per pixel between 0.01 and 1000"),
    "patch_size": (lambda v: _integer(v) and 16 <= v <= 8192, "an integer between 16 and 8192 px"),
    "overlap": (lambda v: _number(v) and 0 <= v < 1, "a fraction in [0, 1)"),
    "in_channels": (lambda v: _integer(v) and 1 <= v <= 16, "an integer between 1 and 16"),
    "mean": (lambda v: isinstance(v, tuple) and len(v) >= 1 and all(_number(x) for x in v), "finite numbers"),
    "std": (lambda v: isinstance(v, tuple) and len(v) >= 1 and all(_number(x) and x > 0 for x in v),
            "finite numbers > 0"),
    "anchor_stride": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "anchor_sizes_px": (lambda v: isinstance(v, tuple) and len(v) >= 1 and all(_number(x) and x > 0 for x in v),
                        "a list of finite sizes > 0"),
    "psroi_k": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "psroi_samples": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "rpn_pre_nms_top_n": (lambda v: _integer(v) and 1 <= v <= 100_000, "an integer between 1 and 100000"),
    "rpn_post_nms_top_n": (lambda v: _integer(v) and 1 <= v <= 10_000, "an integer between 1 and 10000"),
    "rpn_nms_iou": (lambda v: _number(v) and 0 < v <= 1, "an IoU in (0, 1]"),
    "det_nms_iou": (lambda v: _number(v) and 0 < v <= 1, "an IoU in (0, 1]"),
    "score_threshold": (lambda v: _number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "gate_threshold": (lambda v: _number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "gate_pooling": (lambda v: v in ("max", "mean"), "max or mean"),
    "class_names": (lambda v: isinstance(v, tuple) and len(v) >= 1 and all(isinstance(x, str) for x in v),
                    "a list of names"),
}


def check_model_config(config: ModelConfig) -> None:
    """ValueError naming the first field that cannot be right (wrong type, impossible value): a model file's
    metadata is untrusted input, and a NaN threshold or a zero patch size would fail far from its cause."""
    for name, (valid, expected) in _SCHEMA.items():
        value = getattr(config, name)
        if not valid(value):
            raise ValueError(f"{name} is {value!r}, expected {expected}")
    if config.rpn_post_nms_top_n > config.rpn_pre_nms_top_n:
        raise ValueError("rpn_post_nms_top_n exceeds rpn_pre_nms_top_n")
    if len(config.mean) != config.in_channels or len(config.std) != config.in_channels:
        raise ValueError(f"mean and std need one value per channel ({config.in_channels})")


@dataclass(frozen=True)
class CascadeConfig:
    """What the cascade file needs to be used correctly; travels in the ONNX metadata."""

    step_model_px: int = 4  # each input pixel covers step x step pixels at the model's gsd
    in_channels: int = 2  # the mean and the brightest 2 x 2 cell of a read twice as fine (pipeline.cascade)
    mean: float = 110.0  # input normalisation, as the detector's
    std: float = 50.0
    widths: tuple[int, ...] = (8, 16, 16, 24)
    strides: tuple[int, ...] = (1, 2, 2, 1)  # their product is map_stride
    threshold: float = 0.5  # patches scoring >= it run the trunk (calibrated on held-out patches)
    calibrated_keep: float = 0.0  # measured share of patches with aircraft kept at threshold (held-out)
    map_stride: int = 4  # input px per score-map cell
    patch_px: int = 640  # the patch size and model gsd it was calibrated for: other runs go without it
    gsd_m: float = 2.0


@dataclass(frozen=True)
class DetectConfig:
    """One whole-scene run: which model, how to tile, what to keep."""

    model_path: str | None = None  # None: the bundled model
    backend: str = "onnx"  # onnx | torch
    precision: str = "auto"  # bundled model only: auto (int8 on CPU, fp32 on CUDA) | int8 | fp32
    device: str = "auto"  # auto | cpu | cuda
    runtime: str = "auto"  # ONNX files: auto (OpenVINO on CPU if installed, else ONNX Runtime) | onnxruntime | openvino
    score_threshold: float | None = None  # None: the model's recommended one
    gate_threshold: float | None = None  # None: the model's recommended one
    use_gate: bool = True
    tile_size: int | None = None  # None: the model's patch size
    overlap: float | None = None  # None: the model's overlap
    batch_size: int = 4
    bands: tuple[int, ...] | None = None  # 1-based raster band indices; None: auto
    gsd_m: float | None = None  # override / supply the ground resolution
    stretch: str = "local"  # local (block-wise percentiles) | percentile (scene-wide) | divide4 (10-bit) | none
    merge_ios: float = 0.5  # cross-patch merge: intersection over the smaller box
    extent_map: tuple[float, float, float, float] | None = None  # (xmin, ymin, xmax, ymax) in the raster CRS
    window_patches: int = 3  # window graphs: patches per window side (trunk once per window); 1: per patch
    prescreen: bool = True  # skip patches the decimated nodata mask shows empty, without reading them
    # The first look on a decimated view decides which patches run the trunk (never with the gate off). Off by
    # default until the shipped cascade file is fitted well enough (MODEL_CARD.md: the 2026-12-07 one passes
    # almost every patch, so it only adds time); --cascade turns it on.
    cascade: bool = False
    force: bool = False  # run a raster far coarser than aircraft need (scene_plan); never past the memory bound
    extra: dict = field(default_factory=dict, compare=False, hash=False)
