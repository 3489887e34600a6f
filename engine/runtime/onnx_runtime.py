"""OnnxDetector: the inference runtime; loads ONNX only (never a pickle) and checks the model contract."""

from __future__ import annotations

import os

import numpy as np

from engine.config import ModelConfig
from engine.errors import ModelError
from engine.runtime.postprocess import batch_result
from engine.runtime.types import BatchResult

CONFIG_KEY = "r2cnn_config"
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


class OnnxDetector:
    """Runs the exported R2-CNN graph on a batch of patches, then score threshold and exact NMS per patch."""

    def __init__(
        self,
        model_path: str,
        device: str = "auto",
        min_score: float | None = None,
        threads: int | None = None,
    ):
        ort = _onnxruntime()
        if not os.path.isfile(model_path):
            raise ModelError(f"model file not found: {model_path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: provider fallbacks are reported by us
        providers = choose_providers(device, ort.get_available_providers())
        try:
            # ONNX Runtime parses protobuf only: a pickle or any other file is refused, never executed.
            self._session = ort.InferenceSession(model_path, sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types per failure
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"not a valid ONNX model: {model_path} ({first_line[:200]})") from exc
        self.model_path = model_path
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self.config = _config_from_metadata(self.metadata, model_path)
        self.patch_size = _check_contract(self._session, self.config, model_path)
        active = self._session.get_providers()
        if device == "cuda" and CUDA_PROVIDER not in active:
            raise ModelError(
                "device cuda requested but the CUDA provider failed to start (CUDA/cuDNN libraries?)"
            )
        self.device = "cuda" if CUDA_PROVIDER in active else "cpu"
        self.providers = tuple(active)
        self.threads = options.intra_op_num_threads
        self.min_score = float(self.config.score_threshold if min_score is None else min_score)

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        """One batch (N, 3, P, P) of 0..255 patches -> gate scores and per-patch detections."""
        images = np.ascontiguousarray(images_u8, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected (N, {self.config.in_channels}, P, P) patches, got {images.shape}")
        if self.patch_size is not None and images.shape[2:] != (self.patch_size, self.patch_size):
            raise ValueError(f"this model takes {self.patch_size} px patches, got {images.shape[2:]}")
        feeds = {"images": images, "gate_threshold": np.asarray(gate_threshold, dtype=np.float32)}
        gate_scores, passed_index, boxes, box_scores = self._session.run(list(OUTPUT_NAMES), feeds)
        return batch_result(
            gate_scores, passed_index, boxes, box_scores, self.min_score, self.config.det_nms_iou
        )


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
