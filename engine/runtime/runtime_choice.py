"""Which library runs an ONNX file (--runtime): auto takes OpenVINO on the CPU when it imports, ONNX Runtime
otherwise and wherever CUDA runs the model; then the file is opened with it."""

from __future__ import annotations

from engine.contract import DEVICES, ONNXRUNTIME, OPENVINO, RUNTIMES
from engine.errors import ModelError
from engine.runtime.model_session import OpenedModel, SessionTuning


def choose_runtime(runtime: str, device: str) -> str:
    """ONNXRUNTIME or OPENVINO for a --runtime / --device request (README Performance: OpenVINO is faster on CPU)."""
    from engine.runtime.onnx_session import cuda_available
    from engine.runtime.openvino_session import openvino_importable

    if runtime not in RUNTIMES:
        raise ModelError(f"unknown runtime {runtime!r} (expected one of {', '.join(RUNTIMES)})")
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r} (expected {', '.join(DEVICES[:-1])} or {DEVICES[-1]})")
    if runtime != "auto":
        return runtime
    if device == "cuda" or (device == "auto" and cuda_available()):
        return ONNXRUNTIME
    return OPENVINO if openvino_importable() else ONNXRUNTIME


def open_with_runtime(
    model_path: str, device: str = "auto", tuning: SessionTuning | None = None, runtime: str = ONNXRUNTIME
) -> OpenedModel:
    """The file compiled by the chosen runtime (auto resolved here), its metadata read: ONNX files only."""
    chosen = choose_runtime(runtime, device)
    if chosen == OPENVINO:
        from engine.runtime.openvino_session import open_openvino_model

        return open_openvino_model(model_path, device, tuning)
    from engine.runtime.onnx_session import open_model

    return open_model(model_path, device, tuning)
