"""The configurations `python -m benchmarks.bench` compares: the pipeline before the levers (fp32 per patch in
ONNX Runtime), each lever alone, all of them, the same in OpenVINO, and tuning variants run on request."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.contract import ONNXRUNTIME, OPENVINO


@dataclass(frozen=True)
class BenchConfig:
    """One configuration: model variant, nodata pre-screen, runtime, and run options overriding the command line's."""

    variant: str  # benchmarks.variants.VARIANTS
    prescreen: bool
    runtime: str = ONNXRUNTIME
    overrides: dict = field(default_factory=dict)
    cascade: bool = False  # the first look in front of the trunk (r2cnn detect's default)


BASELINE = "fp32-patch"  # the reference of "same aircraft"; with --no-gate, the plain tiled pipeline
PLAIN_TILING = BASELINE  # what generic tiling plugins do: fp32, one patch at a time, no gate (run with --no-gate)
CONFIGS = {
    "fp32-patch": BenchConfig("fp32", False),
    "prescreen": BenchConfig("fp32", True),
    "int8-patch": BenchConfig("int8", False),
    "fp32-window": BenchConfig("window", False),
    "int8-window": BenchConfig("window.int8", True),  # every lever at once, in ONNX Runtime
    "ov-fp32-patch": BenchConfig("fp32", False, OPENVINO),  # the runtime lever alone
    "ov-int8-window": BenchConfig("window.int8", True, OPENVINO),  # what `r2cnn detect` runs on a CPU by default
    "ov-int8-window-cascade": BenchConfig("window.int8", True, OPENVINO, cascade=True),  # the same with --cascade
    # Runtime and size tuning, on request (--configs): measured for the README, not by default
    "fp32-patch-batch1": BenchConfig("fp32", False, overrides={"batch_size": 1}),
    "fp32-patch-batch8": BenchConfig("fp32", False, overrides={"batch_size": 8}),
    "fp32-patch-1thread": BenchConfig("fp32", False, overrides={"threads": 1}),
    "int8-window-2x2": BenchConfig("window.int8", True, overrides={"window_patches": 2}),
    "int8-window-4x4": BenchConfig("window.int8", True, overrides={"window_patches": 4}),
    "int8-window-nospin": BenchConfig("window.int8", True, overrides={"spinning": False}),
    "int8-window-parallel": BenchConfig("window.int8", True, overrides={"parallel": True}),
    "ov-fp32-window": BenchConfig("window", True, OPENVINO),
    "ov-fp32-window-bf16": BenchConfig("window", True, OPENVINO, {"openvino_precision": "bf16"}),
    "ov-int8-window-2x2": BenchConfig("window.int8", True, OPENVINO, {"window_patches": 2}),
    "ov-int8-window-4x4": BenchConfig("window.int8", True, OPENVINO, {"window_patches": 4}),
    "ov-int8-window-1thread": BenchConfig("window.int8", True, OPENVINO, {"threads": 1}),
}
DEFAULT_CONFIGS = (
    "fp32-patch", "prescreen", "int8-patch", "fp32-window", "int8-window", "ov-fp32-patch", "ov-int8-window",
    "ov-int8-window-cascade",
)
DEFAULT = "ov-int8-window-cascade"  # the cascade table's first row (--cascade), against --no-cascade and --no-gate
NO_CASCADE = "ov-int8-window"  # r2cnn detect's default while the cascade is off by default (model card)
CASCADE_CONFIGS = (DEFAULT, NO_CASCADE)  # what the cluttered scene runs (and NO_CASCADE with --no-gate)
DEFAULT_NO_GATE = ("fp32-patch", "int8-window", "ov-int8-window")
