"""ONNX Runtime sessions for r2cnn models: providers, threads, the metadata read (ONNX only, never a pickle).

Shared by OnnxDetector (onnx_runtime.py) and OnnxWindowDetector (window_runtime.py); imports neither.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from engine.config import ModelConfig
from engine.contract import CONFIG_KEY, DEVICES
from engine.errors import ModelError

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


def _onnxruntime():
    """Import lazily so a missing runtime is one clear ModelError, not an ImportError at startup."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            "onnxruntime is not installed (pip install onnxruntime, or onnxruntime-gpu for CUDA)"
        ) from exc
    return onnxruntime


def default_threads() -> int:
    """Intra-op threads: the cores this process may use (ONNX Runtime's own default ignores CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


@dataclass(frozen=True)
class SessionTuning:
    """ONNX Runtime CPU settings (the benchmark measures each): threads, executor, busy-waiting."""

    threads: int | None = None  # intra-op threads; None: the cores this process may use
    inter_op_threads: int = 1  # only used by the parallel executor
    parallel: bool = False  # ORT_PARALLEL runs independent branches at once (ours are few)
    spinning: bool = True  # idle intra-op threads busy-wait: lower latency, but they steal the reader's core
    memory_arena: bool = True  # ORT's CPU arena keeps its peak allocation; off returns it after each run


@dataclass(frozen=True)
class OpenedModel:
    """An ONNX Runtime session with the r2cnn metadata read and the device settled."""

    session: object
    model_path: str
    metadata: dict
    config: ModelConfig
    device: str
    providers: tuple[str, ...]
    threads: int

    @property
    def input_dtype(self) -> type:
        """uint8 for INT8 models that take the 8-bit patches as they are, else float32 (same 0..255)."""
        return np.uint8 if self.session.get_inputs()[0].type == "tensor(uint8)" else np.float32


def open_model(model_path: str, device: str = "auto", tuning: SessionTuning | None = None) -> OpenedModel:
    """Create the session (protobuf only: a pickle is refused, never executed) and read the metadata."""
    ort = _onnxruntime()
    tuning = tuning or SessionTuning()
    if not os.path.isfile(model_path):
        raise ModelError(f"model file not found: {model_path}")
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
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"not a valid ONNX model: {model_path} ({first_line[:200]})") from exc
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    config = _config_from_metadata(metadata, model_path)
    active = session.get_providers()
    if device == "cuda" and CUDA_PROVIDER not in active:
        raise ModelError("device cuda requested but the CUDA provider failed to start (CUDA/cuDNN libraries?)")
    return OpenedModel(
        session=session,
        model_path=model_path,
        metadata=metadata,
        config=config,
        device="cuda" if CUDA_PROVIDER in active else "cpu",
        providers=tuple(active),
        threads=options.intra_op_num_threads,
    )


def as_model_input(images: np.ndarray, dtype: type) -> np.ndarray:
    """Contiguous patches in the model's input type (values 0..255 either way)."""
    if dtype is np.uint8 and np.asarray(images).dtype != np.uint8:
        images = np.clip(np.rint(images), 0, 255)
    return np.ascontiguousarray(images, dtype=dtype)


def _config_from_metadata(metadata: dict[str, str], model_path: str) -> ModelConfig:
    """The model's ModelConfig from its metadata: without it we cannot know gsd, patch size or thresholds."""
    text = metadata.get(CONFIG_KEY)
    if not text:
        raise ModelError(f"{model_path} is an ONNX model but not an r2cnn one (no {CONFIG_KEY!r} metadata)")
    try:
        return ModelConfig.from_json(text)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{model_path}: unreadable {CONFIG_KEY!r} metadata ({exc})") from exc
