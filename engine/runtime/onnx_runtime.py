"""OnnxDetector: the inference runtime for the per-patch graph (checks the model contract), and
load_onnx_detector, which picks it or OnnxWindowDetector from the model's metadata.

The session (ONNX files only, never a pickle) is opened by onnx_session.py (ONNX Runtime) or
openvino_session.py (OpenVINO), chosen by runtime_choice.py; the detectors see only model_session's
OpenedModel. The ONNX Runtime names are re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

import numpy as np

from engine.config import ModelConfig
from engine.contract import (
    GATE_THRESHOLD_INPUT,
    GRAPH_KEY,
    IMAGES_INPUT,
    INPUT_NAMES,
    ONNXRUNTIME,
    WINDOW_GRAPH,
)
from engine.errors import ModelError
from engine.runtime.model_session import ModelSession, describe_opened, missing_names
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
from engine.runtime.runtime_choice import open_with_runtime
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
    model_path: str,
    device: str = "auto",
    min_score: float | None = None,
    tuning: SessionTuning | None = None,
    runtime: str = ONNXRUNTIME,
):
    """OnnxDetector for a per-patch graph, OnnxWindowDetector for a window graph (metadata GRAPH_KEY).

    runtime defaults to ONNX Runtime, the reference; engine.runtime.load_detector defaults to auto.
    """
    opened = open_with_runtime(model_path, device, tuning, runtime)
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
        runtime: str = ONNXRUNTIME,
    ):
        opened = model if isinstance(model, OpenedModel) else open_with_runtime(
            model, device, tuning or SessionTuning(threads=threads), runtime
        )
        self._session = opened.session
        self.patch_size = _check_contract(opened.session, opened.config, opened.model_path)
        describe_opened(self, opened, min_score)

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        """One batch (N, 3, P, P) of 0..255 patches -> gate scores and per-patch detections."""
        images = as_model_input(images_u8, self.input_dtype)
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected (N, {self.config.in_channels}, P, P) patches, got {images.shape}")
        if self.patch_size is not None and images.shape[2:] != (self.patch_size, self.patch_size):
            raise ValueError(f"this model takes {self.patch_size} px patches, got {images.shape[2:]}")
        feeds = {IMAGES_INPUT: images, GATE_THRESHOLD_INPUT: np.asarray(gate_threshold, dtype=np.float32)}
        gate_scores, passed_index, boxes, box_scores = self._session.run(feeds)
        return batch_result(
            gate_scores, passed_index, boxes, box_scores, self.min_score, self.config.det_nms_iou,
            self.config.rpn_post_nms_top_n,
        )


def _check_contract(session: ModelSession, config: ModelConfig, model_path: str) -> int | None:
    """Inputs and outputs as in docs/ARCHITECTURE.md; returns the fixed patch size, or None if dynamic."""
    missing = missing_names(session, INPUT_NAMES)
    if missing:
        raise ModelError(
            f"{model_path} does not follow the r2cnn model contract (missing {', '.join(missing)})"
        )
    shape = session.inputs[IMAGES_INPUT].shape
    if len(shape) != 4:
        raise ModelError(f"{model_path}: input {IMAGES_INPUT!r} must be (N, 3, P, P), the model says {shape}")
    height, width = shape[2], shape[3]
    if height is not None and width is not None:
        if height != width or height != config.patch_size:
            raise ModelError(
                f"{model_path}: input size {height}x{width} differs from patch_size {config.patch_size}"
            )
        return int(height)
    return None
