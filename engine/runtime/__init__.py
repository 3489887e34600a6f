"""Runtimes behind one Detector interface: ONNX Runtime or OpenVINO for inference, torch for training and parity."""

from __future__ import annotations

from pathlib import Path

from engine.contract import (
    BACKENDS,
    BUNDLED_FAST_MODEL_NAME,
    BUNDLED_MODEL_NAME,
    BUNDLED_WINDOW_MODEL_NAME,
    PRECISIONS,
    RUNTIMES,
)
from engine.errors import ModelError
from engine.runtime.types import BatchResult, Detector, PatchDetections

__all__ = [
    "BUNDLED_FAST_MODEL_NAME",
    "BUNDLED_WINDOW_MODEL_NAME",
    "BUNDLED_MODEL_NAME",
    "PRECISIONS",
    "RUNTIMES",
    "BatchResult",
    "Detector",
    "PatchDetections",
    "bundled_model_for",
    "bundled_model_path",
    "load_detector",
]


def bundled_model_path() -> Path:
    """resources/models/ beside engine/: the repository root in a checkout, the plugin folder in the zip."""
    return Path(__file__).resolve().parents[2] / "resources" / "models" / BUNDLED_MODEL_NAME


def bundled_model_for(precision: str = "fp32", device: str = "cpu") -> Path:
    """Which bundled file runs: INT8 window graph on CPU (README Performance), fp32 where CUDA runs it.

    auto picks int8 unless CUDA will run the model (int8 there is not what GPUs are fast at); on a CPU that
    would saturate INT8 products (x86 without VNNI, cpu_features) it picks the fp32 window graph. A missing
    window file (a plugin zip built without it) falls back to the fp32 reference.
    """
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r} (expected one of {', '.join(PRECISIONS)})")
    reference = bundled_model_path()
    if precision == "auto":
        if _cuda_expected(device):
            return reference
        from engine.runtime.cpu_features import int8_exact_cpu

        if not int8_exact_cpu():
            window = reference.with_name(BUNDLED_WINDOW_MODEL_NAME)
            return window if window.is_file() else reference
        precision = "int8"
    fast = reference.with_name(BUNDLED_FAST_MODEL_NAME)
    return fast if precision == "int8" and fast.is_file() else reference


def _cuda_expected(device: str) -> bool:
    """device cuda, or auto with ONNX Runtime's CUDA provider installed."""
    if device != "auto":
        return device == "cuda"
    from engine.runtime.onnx_session import cuda_available

    return cuda_available()


def load_detector(
    model_path: str | None,
    backend: str = "onnx",
    device: str = "auto",
    min_score: float | None = None,
    threads: int | None = None,
    tuning=None,
    precision: str = "fp32",
    runtime: str = "auto",
) -> Detector:
    """The Detector for a model file (None: the bundled ONNX model at `precision`, see bundled_model_for);
    min_score None: the model's own.

    An ONNX window graph (r2cnn export --graph window) gives an OnnxWindowDetector, which the pipeline
    feeds whole windows; `tuning` (model_session.SessionTuning) overrides threads and the executor;
    `runtime` (RUNTIMES) says which library runs an ONNX file: auto is OpenVINO on the CPU when installed.
    """
    if backend == "onnx":
        from engine.runtime.onnx_runtime import SessionTuning, load_onnx_detector

        if model_path is None:
            bundled = bundled_model_for(precision, device)
            if not bundled.is_file():
                raise ModelError(f"the bundled model is missing ({bundled}); pass a model file")
            model_path = str(bundled)
        return load_onnx_detector(model_path, device, min_score, tuning or SessionTuning(threads=threads), runtime)
    if backend == "torch":
        if model_path is None:
            raise ModelError("the torch backend needs a checkpoint file (the bundled model is ONNX)")
        try:
            from engine.runtime.torch_runtime import load_torch_detector
        except ImportError as exc:
            raise ModelError(f"the torch backend is unavailable ({exc})") from exc
        return load_torch_detector(model_path, device=device, min_score=min_score)
    raise ModelError(f"unknown backend {backend!r} (expected {' or '.join(BACKENDS)})")
