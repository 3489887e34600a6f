"""OnnxDetector: the inference runtime for the per-patch graph (checks the model contract), and
load_onnx_detector, which picks it or OnnxWindowDetector from the model's metadata.

The session itself (ONNX only, never a pickle) is opened by onnx_session.py; its names are re-exported
here for the callers that import them from this module.
"""

from __future__ import annotations

import numpy as np

from engine.config import ModelConfig
from engine.contract import (
    GATE_THRESHOLD_INPUT,
    GRAPH_KEY,
    IMAGES_INPUT,
    INPUT_NAMES,
    OUTPUT_NAMES,
    WINDOW_GRAPH,
)
from engine.errors import ModelError
from engine.runtime.onnx_session import (
    CPU_PROVIDER,
    CUDA_PROVIDER,
    OpenedModel,
    SessionTuning,
    as_model_input,
    choose_providers,
    default_threads,
    open_model,
)
from engine.runtime.postprocess import batch_result
from engine.runtime.types import BatchResult
from engine.runtime.window_runtime import OnnxWindowDetector

__all__ = [
    "CPU_PROVIDER",
    "CUDA_PROVIDER",
    "OnnxDetector",
    "OnnxWindowDetector",
    "OpenedModel",
    "SessionTuning",
    "as_model_input",
    "choose_providers",
    "default_threads",
    "load_onnx_detector",
    "open_model",
]


def load_onnx_detector(
    model_path: str, device: str = "auto", min_score: float | None = None, tuning: SessionTuning | None = None
):
    """OnnxDetector for a per-patch graph, OnnxWindowDetector for a window graph (metadata GRAPH_KEY)."""
    opened = open_model(model_path, device, tuning)
    if opened.metadata.get(GRAPH_KEY) == WINDOW_GRAPH:
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
        feeds = {IMAGES_INPUT: images, GATE_THRESHOLD_INPUT: np.asarray(gate_threshold, dtype=np.float32)}
        gate_scores, passed_index, boxes, box_scores = self._session.run(list(OUTPUT_NAMES), feeds)
        return batch_result(
            gate_scores, passed_index, boxes, box_scores, self.min_score, self.config.det_nms_iou
        )


def _check_contract(session, config: ModelConfig, model_path: str) -> int | None:
    """Inputs and outputs as in docs/ARCHITECTURE.md; returns the fixed patch size, or None if dynamic."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    missing = [n for n in INPUT_NAMES if n not in inputs] + [n for n in OUTPUT_NAMES if n not in outputs]
    if missing:
        raise ModelError(
            f"{model_path} does not follow the r2cnn model contract (missing {', '.join(missing)})"
        )
    shape = inputs[IMAGES_INPUT].shape
    if len(shape) != 4:
        raise ModelError(f"{model_path}: input {IMAGES_INPUT!r} must be (N, 3, P, P), the model says {shape}")
    height, width = shape[2], shape[3]
    if isinstance(height, int) and isinstance(width, int):
        if height != width or height != config.patch_size:
            raise ModelError(
                f"{model_path}: input size {height}x{width} differs from patch_size {config.patch_size}"
            )
        return int(height)
    return None
