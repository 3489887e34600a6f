"""What every runtime returns for a batch of patches (ONNX and torch alike)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.config import ModelConfig


@dataclass(frozen=True)
class PatchDetections:
    """Boxes of one patch after the score threshold and exact NMS."""

    boxes_patch_px: np.ndarray  # (D, 4) after NMS and score >= min_score
    scores: np.ndarray  # (D,)


@dataclass(frozen=True)
class BatchResult:
    """Gate scores for every patch and detections for each (empty where the gate did not pass it)."""

    gate_scores: np.ndarray  # (N,)
    detections: list[PatchDetections]  # one per input patch (empty when not passed)


class Detector(Protocol):
    """The interface the pipeline needs from a runtime."""

    config: ModelConfig  # from the ONNX metadata (or the torch model)
    device: str  # "cpu" / "cuda": what actually runs
    runtime: str  # "onnxruntime" / "openvino" / "torch": which library runs it (run statistics, logs)
    precision: str  # "int8" / "fp32" / "bf16": the arithmetic that actually runs

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult: ...
