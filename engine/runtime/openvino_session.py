"""OpenVINO sessions for the same ONNX files: read by OpenVINO's ONNX front end only (never an IR, a
pickle or another framework's file), compiled for the CPU with the latency hint and fp32 arithmetic.

Shared by OnnxDetector and OnnxWindowDetector through model_session.OpenedModel, like onnx_session.py.
"""

from __future__ import annotations

import numpy as np

from engine.contract import DEVICES, INPUT_NAMES, ONNXRUNTIME, OPENVINO, OUTPUT_NAMES, WINDOW_INPUT_NAMES
from engine.errors import ModelError, first_line
from engine.model_metadata import model_config, read_file_metadata
from engine.runtime.model_session import (
    OpenedModel,
    SessionTuning,
    TensorSpec,
    check_model_file,
    default_threads,
    run_precision,
)

OPENVINO_DEVICE = "CPU"  # OpenVINO's GPU plugin drives Intel GPUs, not CUDA: CUDA stays with ONNX Runtime
ONNX_FRONTEND = "onnx"
METADATA_RT_INFO = "framework"  # where OpenVINO's ONNX front end keeps the file's metadata_props
_PRECISION_NAMES = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}
_CONTRACT_NAMES = frozenset(INPUT_NAMES + WINDOW_INPUT_NAMES + OUTPUT_NAMES)


def openvino_importable() -> bool:
    """OpenVINO is installed and loads (auto picks it on the CPU then)."""
    try:
        import openvino  # noqa: F401
    except Exception:  # absent, or a broken native library: either way not usable
        return False
    return True


def _openvino():
    """Import lazily: the engine runs without OpenVINO (it is an optional speed-up)."""
    try:
        import openvino
    except Exception as exc:
        raise ModelError(
            f"runtime {OPENVINO} requested but openvino does not import ({first_line(exc)}); "
            f"pip install openvino, or use --runtime {ONNXRUNTIME}"
        ) from exc
    return openvino


class OpenVinoSession:
    """model_session.ModelSession over an OpenVINO compiled model and one infer request."""

    def __init__(self, compiled):
        self.compiled = compiled
        self._request = compiled.create_infer_request()
        self.inputs = {
            _name(port): TensorSpec(_name(port), _numpy_type(port), _dims(port)) for port in compiled.inputs
        }
        self.outputs = tuple(_name(port) for port in compiled.outputs)
        self._ports = {name: compiled.output(name) for name in OUTPUT_NAMES if name in self.outputs}

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The contract's outputs, in OUTPUT_NAMES order (copied out of the request, share_outputs=False)."""
        result = self._request.infer(feeds, share_inputs=True)
        return [np.asarray(result[self._ports[name]]) for name in OUTPUT_NAMES]


def _name(port) -> str:
    """The contract's name of a port: compiled ports may carry several (an inner tensor's name too)."""
    names = port.get_names()
    return next((n for n in sorted(names) if n in _CONTRACT_NAMES), port.get_any_name())


def _numpy_type(port) -> type:
    """The port's element type as a numpy scalar type."""
    return np.dtype(port.get_element_type().to_dtype()).type


def _dims(port) -> tuple[int | None, ...]:
    """Static dimensions as ints, dynamic ones as None."""
    return tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())


def open_openvino_model(model_path: str, device: str = "auto", tuning: SessionTuning | None = None) -> OpenedModel:
    """Parse with the ONNX front end (a pickle or text is refused, never executed), read the metadata, compile."""
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r} (expected {', '.join(DEVICES[:-1])} or {DEVICES[-1]})")
    if device == "cuda":
        raise ModelError(f"runtime {OPENVINO} runs on the CPU; for --device cuda use --runtime {ONNXRUNTIME}")
    ov = _openvino()
    tuning = tuning or SessionTuning()
    check_model_file(model_path)
    try:
        frontend = ov.frontend.FrontEndManager().load_by_framework(ONNX_FRONTEND)
        model = frontend.convert(frontend.load(model_path))
    except Exception as exc:  # OpenVINO raises its own exception types per failure
        raise ModelError(f"not a valid ONNX model: {model_path} ({first_line(exc)})") from exc
    metadata = _metadata(model, model_path)
    config = model_config(metadata, model_path)
    threads = tuning.threads or default_threads()
    settings = {
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": tuning.openvino_precision,
    }
    try:
        compiled = ov.Core().compile_model(model, OPENVINO_DEVICE, settings)
    except Exception as exc:
        raise ModelError(f"OpenVINO cannot compile {model_path} ({first_line(exc)})") from exc
    ran = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    return OpenedModel(
        session=OpenVinoSession(compiled),
        model_path=model_path,
        metadata=metadata,
        config=config,
        device="cpu",
        runtime=OPENVINO,
        precision=run_precision(metadata, _PRECISION_NAMES.get(ran, ran)),
        providers=(f"OpenVINO {OPENVINO_DEVICE}",),
        threads=int(compiled.get_property("INFERENCE_NUM_THREADS")),
    )


def _metadata(model, model_path: str) -> dict[str, str]:
    """The ONNX metadata_props: OpenVINO's front end keeps them in rt_info; else read them with onnx."""
    rt_info = model.get_rt_info()
    if METADATA_RT_INFO in rt_info:
        return {str(key): value.astype(str) for key, value in rt_info[METADATA_RT_INFO].items()}
    try:
        return read_file_metadata(model_path)
    except ImportError:  # no onnx package: no metadata, so not an r2cnn model
        return {}
    except Exception as exc:  # a file OpenVINO parsed but onnx cannot: treat as no metadata
        raise ModelError(f"{model_path}: unreadable ONNX metadata ({first_line(exc)})") from exc
