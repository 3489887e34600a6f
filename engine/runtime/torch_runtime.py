"""The torch runtime: same Detector interface as ONNX, for training-time evaluation and parity tests."""

from __future__ import annotations

import pickle

import numpy as np
import torch

from engine.config import ModelConfig
from engine.errors import ModelError
from engine.network.checkpoint import load_checkpoint_model
from engine.network.r2cnn import R2CNN
from engine.runtime.postprocess import batch_result
from engine.runtime.run_settings import score_threshold_for
from engine.runtime.types import BatchResult


class TorchDetector:
    """Wraps an eval-mode R2CNN; post-processing is shared with the ONNX runtime."""

    runtime = "torch"
    precision = "fp32"

    def __init__(self, model: R2CNN, device: str = "cpu", min_score: float | None = None):
        self.model = model.eval().to(device)
        self.config: ModelConfig = model.config
        self.device = device
        self.min_score = score_threshold_for(self.config, min_score)

    @torch.no_grad()
    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        images = torch.as_tensor(np.ascontiguousarray(images_u8), dtype=torch.float32, device=self.device)
        gate, passed, boxes, scores = self.model(images, torch.tensor(float(gate_threshold), device=self.device))
        return batch_result(
            gate.cpu().numpy(),
            passed.cpu().numpy(),
            boxes.cpu().numpy(),
            scores.cpu().numpy(),
            self.min_score,
            self.config.det_nms_iou,
            self.config.rpn_post_nms_top_n,
        )


def load_torch_detector(path: str, device: str = "auto", min_score: float | None = None) -> TorchDetector:
    """Load a training checkpoint with weights_only=True: a pickle from elsewhere is never executed."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: this torch build sees no CUDA GPU (use --device cpu or auto)")
    try:
        model = load_checkpoint_model(path)
    except pickle.UnpicklingError as exc:  # torch's own text suggests weights_only=False: never for user files
        raise ModelError(
            f"cannot load torch checkpoint {path}: not a weights-only r2cnn checkpoint (refused; nothing in it was run)"
        ) from exc
    except Exception as exc:  # any other unreadable file is one clear error
        raise ModelError(f"cannot load torch checkpoint {path}: {str(exc).splitlines()[0]}") from exc
    return TorchDetector(model, device=device, min_score=min_score)
