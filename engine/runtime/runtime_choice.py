"""Which library runs an ONNX file (--runtime): auto takes OpenVINO on the CPU when it imports, ONNX Runtime
otherwise, wherever CUDA runs the model, and for INT8 files; then the file is opened with it.

INT8 files stay on ONNX Runtime under auto: OpenVINO's execution of the quantized window graph of the current
model scores lower than the reference (README, Runtimes), so it is there only on request."""

from __future__ import annotations

from engine.contract import DEVICES, ONNXRUNTIME, OPENVINO, QUANTIZATION_KEY, RUNTIMES
from engine.errors import ModelError
from engine.runtime.model_session import OpenedModel, SessionTuning


def choose_runtime(runtime: str, device: str, quantized: bool = False) -> str:
    """ONNXRUNTIME or OPENVINO for a --runtime / --device request (README Performance: OpenVINO is faster on CPU)."""
    from engine.runtime.onnx_session import cuda_available
    from engine.runtime.openvino_session import openvino_importable

    if runtime not in RUNTIMES:
        raise ModelError(f"unknown runtime {runtime!r} (expected one of {', '.join(RUNTIMES)})")
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r} (expected {', '.join(DEVICES[:-1])} or {DEVICES[-1]})")
    if runtime != "auto":
        return runtime
    if quantized or device == "cuda" or (device == "auto" and cuda_available()):
        return ONNXRUNTIME
    return OPENVINO if openvino_importable() else ONNXRUNTIME


def open_with_runtime(
    model_path: str, device: str = "auto", tuning: SessionTuning | None = None, runtime: str = ONNXRUNTIME
) -> OpenedModel:
    """The file compiled by the chosen runtime (auto resolved here), its metadata read: ONNX files only."""
    chosen = choose_runtime(runtime, device, runtime == "auto" and is_quantized(model_path))
    if chosen == OPENVINO:
        from engine.runtime.openvino_session import open_openvino_model

        return open_openvino_model(model_path, device, tuning)
    from engine.runtime.onnx_session import open_model

    return open_model(model_path, device, tuning)


def is_quantized(model_path: str) -> bool:
    """Whether an ONNX file carries the INT8 quantization record (unreadable files: False, opening says why)."""
    import onnx

    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception:
        return False
    return any(prop.key == QUANTIZATION_KEY for prop in model.metadata_props)
