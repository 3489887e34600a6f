"""ONNX Runtime sessions for r2cnn models: providers, threads, the metadata read (ONNX only, never a pickle).

Shared by OnnxDetector (onnx_runtime.py) and OnnxWindowDetector (window_runtime.py) through
model_session.OpenedModel; imports neither.
"""

from __future__ import annotations

import numpy as np

from engine.contract import DEVICES, ONNXRUNTIME, OUTPUT_NAMES
from engine.errors import ModelError, first_line
from engine.model_metadata import model_config
from engine.runtime.model_session import (
    OpenedModel,
    SessionTuning,
    TensorSpec,
    as_model_input,
    check_model_file,
    default_threads,
    run_precision,
)

__all__ = [
    "CPU_PROVIDER",
    "CUDA_PROVIDER",
    "OpenedModel",
    "OrtSession",
    "SessionTuning",
    "as_model_input",
    "choose_providers",
    "default_threads",
    "open_model",
]

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
_NUMPY_TYPES = {"tensor(uint8)": np.uint8, "tensor(float)": np.float32, "tensor(int64)": np.int64}


def _onnxruntime():
    """Import lazily so a missing runtime is one clear ModelError, not an ImportError at startup."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            "onnxruntime is not installed (pip install onnxruntime, or onnxruntime-gpu for CUDA)"
        ) from exc
    return onnxruntime


def choose_providers(device: str, available: list[str]) -> list[str]:
    """Execution providers for a device request: auto takes CUDA when onnxruntime-gpu offers it, else CPU."""
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r} (expected {', '.join(DEVICES[:-1])} or {DEVICES[-1]})")
    has_cuda = CUDA_PROVIDER in available
    if device == "cuda" and not has_cuda:
        raise ModelError(
            "device cuda requested but onnxruntime offers no CUDAExecutionProvider (install onnxruntime-gpu)"
        )
    if device in ("auto", "cuda") and has_cuda:
        return [CUDA_PROVIDER, CPU_PROVIDER]
    return [CPU_PROVIDER]


def cuda_available() -> bool:
    """ONNX Runtime's CUDA provider is installed (onnxruntime-gpu): auto device and runtime pick it."""
    try:
        import onnxruntime
    except ImportError:
        return False
    return CUDA_PROVIDER in onnxruntime.get_available_providers()


class OrtSession:
    """model_session.ModelSession over an onnxruntime.InferenceSession."""

    def __init__(self, session):
        self.inference_session = session
        self.inputs = {i.name: TensorSpec(i.name, _NUMPY_TYPES.get(i.type, np.float32), _dims(i.shape))
                       for i in session.get_inputs()}
        self.outputs = tuple(o.name for o in session.get_outputs())

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The contract's outputs, in OUTPUT_NAMES order."""
        return self.inference_session.run(list(OUTPUT_NAMES), feeds)


def _dims(shape) -> tuple[int | None, ...]:
    """ONNX Runtime names dynamic dimensions with strings (or None): both become None."""
    return tuple(d if isinstance(d, int) else None for d in shape)


def open_model(model_path: str, device: str = "auto", tuning: SessionTuning | None = None) -> OpenedModel:
    """Create the session (protobuf only: a pickle is refused, never executed) and read the metadata."""
    ort = _onnxruntime()
    tuning = tuning or SessionTuning()
    check_model_file(model_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = tuning.threads or default_threads()
    options.inter_op_num_threads = max(1, tuning.inter_op_threads)
    options.execution_mode = ort.ExecutionMode.ORT_PARALLEL if tuning.parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = tuning.memory_arena
    options.log_severity_level = 3  # errors only: provider fallbacks are reported by us
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if tuning.spinning else "0")
    providers = choose_providers(device, ort.get_available_providers())
    try:
        session = ort.InferenceSession(model_path, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types per failure
        raise ModelError(f"not a valid ONNX model: {model_path} ({first_line(exc)})") from exc
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    config = model_config(metadata, model_path)
    active = session.get_providers()
    if device == "cuda" and CUDA_PROVIDER not in active:
        raise ModelError("device cuda requested but the CUDA provider failed to start (CUDA/cuDNN libraries?)")
    return OpenedModel(
        session=OrtSession(session),
        model_path=model_path,
        metadata=metadata,
        config=config,
        device="cuda" if CUDA_PROVIDER in active else "cpu",
        runtime=ONNXRUNTIME,
        precision=run_precision(metadata, "fp32"),
        providers=tuple(active),
        threads=options.intra_op_num_threads,
    )
