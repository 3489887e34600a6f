"""Runtimes behind one Detector interface: ONNX Runtime for inference, torch for training and parity."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ModelError
from engine.runtime.types import BatchResult, Detector, PatchDetections

BUNDLED_MODEL_NAME = "r2cnn_aircraft.onnx"

__all__ = ["BatchResult", "Detector", "PatchDetections", "bundled_model_path", "load_detector"]


def bundled_model_path() -> Path:
    """resources/models/ beside engine/: the repository root in a checkout, the plugin folder in the zip."""
    return Path(__file__).resolve().parents[2] / "resources" / "models" / BUNDLED_MODEL_NAME


def load_detector(
    model_path: str | None,
    backend: str = "onnx",
    device: str = "auto",
    min_score: float | None = None,
    threads: int | None = None,
    tuning=None,
) -> Detector:
    """The Detector for a model file (None: the bundled ONNX model); min_score None: the model's own.

    An ONNX window graph (r2cnn export --graph window) gives an OnnxWindowDetector, which the pipeline
    feeds whole windows; `tuning` (onnx_runtime.SessionTuning) overrides threads and the executor.
    """
    if backend == "onnx":
        from engine.runtime.onnx_runtime import SessionTuning, load_onnx_detector

        if model_path is None:
            bundled = bundled_model_path()
            if not bundled.is_file():
                raise ModelError(f"the bundled model is missing ({bundled}); pass a model file")
            model_path = str(bundled)
        return load_onnx_detector(model_path, device, min_score, tuning or SessionTuning(threads=threads))
    if backend == "torch":
        if model_path is None:
            raise ModelError("the torch backend needs a checkpoint file (the bundled model is ONNX)")
        try:
            from engine.runtime.torch_runtime import load_torch_detector
        except ImportError as exc:
            raise ModelError(f"the torch backend is unavailable ({exc})") from exc
        return load_torch_detector(model_path, device=device, min_score=min_score)
    raise ModelError(f"unknown backend {backend!r} (expected onnx or torch)")
