"""What the detectors need from an inference library, whichever runs the ONNX file: the tensors it takes and
gives, the r2cnn metadata, one run() call, and what actually ran (runtime, device, precision).

onnx_session.py (ONNX Runtime) and openvino_session.py (OpenVINO) each open a file into an OpenedModel;
OnnxDetector and OnnxWindowDetector use only what is here, so no logic is written twice per runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.config import ModelConfig
from engine.contract import IMAGE_INPUT_NAMES, OUTPUT_NAMES, QUANTIZATION_KEY
from engine.errors import ModelError
from engine.runtime.run_settings import score_threshold_for


@dataclass(frozen=True)
class TensorSpec:
    """One graph input: its element type and shape (None where a dimension is dynamic)."""

    name: str
    dtype: type  # np.uint8, np.float32, np.int64, ...
    shape: tuple[int | None, ...]


class ModelSession(Protocol):
    """A compiled graph: its inputs by name, its output names, and one inference call."""

    inputs: Mapping[str, TensorSpec]
    outputs: tuple[str, ...]

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The contract's OUTPUT_NAMES, in that order."""
        ...


@dataclass(frozen=True)
class SessionTuning:
    """Runtime settings (the benchmark measures each): threads for both runtimes, the rest per runtime."""

    threads: int | None = None  # intra-op threads; None: the cores this process may use
    inter_op_threads: int = 1  # ONNX Runtime, only used by the parallel executor
    parallel: bool = False  # ONNX Runtime: ORT_PARALLEL runs independent branches at once (ours are few)
    spinning: bool = True  # ONNX Runtime: idle threads busy-wait (lower latency, but they steal the reader's core)
    memory_arena: bool = True  # ONNX Runtime's CPU arena keeps its peak allocation; off returns it after each run
    # OpenVINO's INFERENCE_PRECISION_HINT for float ops: f32 gives ONNX Runtime's results (the parity test);
    # bf16, its default on CPUs with AVX-512 BF16, moves fp32 scores in the third digit.
    openvino_precision: str = "f32"


@dataclass(frozen=True)
class OpenedModel:
    """A compiled model with the r2cnn metadata read and what will run it settled."""

    session: ModelSession
    model_path: str
    metadata: dict
    config: ModelConfig
    device: str  # "cpu" / "cuda": what actually runs
    runtime: str  # contract.ONNXRUNTIME / contract.OPENVINO
    precision: str  # "int8" / "fp32" / "bf16": what the arithmetic actually is (run statistics, logs)
    providers: tuple[str, ...]  # ONNX Runtime's execution providers, or the OpenVINO device
    threads: int

    @property
    def input_dtype(self) -> type:
        """uint8 for INT8 models that take the 8-bit patches as they are, else float32 (same 0..255)."""
        images = next((self.session.inputs[n] for n in IMAGE_INPUT_NAMES if n in self.session.inputs), None)
        return np.uint8 if images is not None and images.dtype is np.uint8 else np.float32


def missing_names(session: ModelSession, input_names: tuple[str, ...]) -> list[str]:
    """Contract inputs and outputs the graph lacks (both detectors refuse such a file)."""
    return [n for n in input_names if n not in session.inputs] + [n for n in OUTPUT_NAMES if n not in session.outputs]


def describe_opened(detector, opened: OpenedModel, min_score: float | None) -> None:
    """The attributes both detectors expose (Detector interface, run statistics), set in one place."""
    detector.model_path = opened.model_path
    detector.metadata = opened.metadata
    detector.config = opened.config
    detector.device = opened.device
    detector.runtime = opened.runtime
    detector.precision = opened.precision
    detector.providers = opened.providers
    detector.threads = opened.threads
    detector.input_dtype = opened.input_dtype
    detector.min_score = score_threshold_for(opened.config, min_score)


def default_threads() -> int:
    """Intra-op threads: the cores this process may use (ONNX Runtime's own default ignores CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def as_model_input(images: np.ndarray, dtype: type) -> np.ndarray:
    """Contiguous patches in the model's input type (values 0..255 either way)."""
    if dtype is np.uint8 and np.asarray(images).dtype != np.uint8:
        images = np.clip(np.rint(images), 0, 255)
    return np.ascontiguousarray(images, dtype=dtype)


def run_precision(metadata: dict[str, str], float_precision: str) -> str:
    """int8 for a quantized file (its float ops noted when they are not fp32), else the float precision."""
    if QUANTIZATION_KEY in metadata:
        return "int8" if float_precision == "fp32" else f"int8+{float_precision}"
    return float_precision


def check_model_file(model_path: str) -> None:
    """A missing file is one clear error before any library tries to parse it."""
    if not os.path.isfile(model_path):
        raise ModelError(f"model file not found: {model_path}")


