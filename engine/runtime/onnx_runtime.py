"""OnnxDetector: the inference runtime; loads ONNX only (never a pickle) and checks the model contract."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from engine.config import ModelConfig
from engine.errors import ModelError
from engine.runtime.postprocess import batch_result
from engine.runtime.types import BatchResult

CONFIG_KEY = "r2cnn_config"
GRAPH_KEY = "r2cnn_graph"  # absent: the per-patch graph; "window": engine.export.window_export
WINDOW_GRAPH = "window"
INPUT_NAMES = ("images", "gate_threshold")
OUTPUT_NAMES = ("gate_scores", "passed_index", "boxes_patch_px", "box_scores")
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
    if device not in ("auto", "cpu", "cuda"):
        raise ModelError(f"unknown device {device!r} (expected auto, cpu or cuda)")
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


def load_onnx_detector(
    model_path: str, device: str = "auto", min_score: float | None = None, tuning: SessionTuning | None = None
):
    """OnnxDetector for a per-patch graph, OnnxWindowDetector for a window graph (metadata r2cnn_graph)."""
    opened = open_model(model_path, device, tuning)
    if opened.metadata.get(GRAPH_KEY) == WINDOW_GRAPH:
        from engine.runtime.window_runtime import OnnxWindowDetector

        return OnnxWindowDetector(opened, min_score=min_score)
    return OnnxDetector(opened, min_score=min_score)


class OnnxDetector:
    """Runs the exported R2-CNN graph on a batch of patches, then score threshold and exact NMS per patch."""

    def __init__(
        self,
        model: str | OpenedModel,
        device: str = "auto",
        min_score: float | None = None,
        threads: int | None = None,
        tuning: SessionTuning | None = None,
    ):
        opened = model if isinstance(model, OpenedModel) else open_model(
            model, device, tuning or SessionTuning(threads=threads)
        )
        self._session = opened.session
        self.model_path = opened.model_path
        self.metadata = opened.metadata
        self.config = opened.config
        self.patch_size = _check_contract(self._session, self.config, self.model_path)
        self.device = opened.device
        self.providers = opened.providers
        self.threads = opened.threads
        self.input_dtype = opened.input_dtype
        self.min_score = float(self.config.score_threshold if min_score is None else min_score)

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        """One batch (N, 3, P, P) of 0..255 patches -> gate scores and per-patch detections."""
        images = as_model_input(images_u8, self.input_dtype)
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected (N, {self.config.in_channels}, P, P) patches, got {images.shape}")
        if self.patch_size is not None and images.shape[2:] != (self.patch_size, self.patch_size):
            raise ValueError(f"this model takes {self.patch_size} px patches, got {images.shape[2:]}")
        feeds = {"images": images, "gate_threshold": np.asarray(gate_threshold, dtype=np.float32)}
        gate_scores, passed_index, boxes, box_scores = self._session.run(list(OUTPUT_NAMES), feeds)
        return batch_result(
            gate_scores, passed_index, boxes, box_scores, self.min_score, self.config.det_nms_iou
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


def _check_contract(session, config: ModelConfig, model_path: str) -> int | None:
    """Inputs and outputs as in docs/ARCHITECTURE.md; returns the fixed patch size, or None if dynamic."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    missing = [n for n in INPUT_NAMES if n not in inputs] + [n for n in OUTPUT_NAMES if n not in outputs]
    if missing:
        raise ModelError(
            f"{model_path} does not follow the r2cnn model contract (missing {', '.join(missing)})"
        )
    shape = inputs["images"].shape
    if len(shape) != 4:
        raise ModelError(f"{model_path}: input 'images' must be (N, 3, P, P), the model says {shape}")
    height, width = shape[2], shape[3]
    if isinstance(height, int) and isinstance(width, int):
        if height != width or height != config.patch_size:
            raise ModelError(
                f"{model_path}: input size {height}x{width} differs from patch_size {config.patch_size}"
            )
        return int(height)
    return None
