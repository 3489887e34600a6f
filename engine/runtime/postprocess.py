"""After the session: score threshold and exact greedy NMS per patch, in numpy (no torch at inference)."""

from __future__ import annotations

import numpy as np

from engine.errors import ModelOutputError
from engine.ops.box_arrays import nms
from engine.runtime.types import BatchResult, PatchDetections

_ROUNDING = 1e-3  # INT8 models dequantize probabilities in steps of about 1/255: 1.0000001 is still a probability


def empty_detections() -> PatchDetections:
    """A patch the gate did not pass (or with nothing above threshold)."""
    return PatchDetections(
        boxes_patch_px=np.zeros((0, 4), dtype=np.float32), scores=np.zeros((0,), dtype=np.float32)
    )


def filter_patch(
    boxes_patch_px: np.ndarray, scores: np.ndarray, min_score: float, nms_iou: float
) -> PatchDetections:
    """Keep boxes with score >= min_score (and > 0: suppressed proposals carry 0), then exact NMS."""
    boxes = np.asarray(boxes_patch_px, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    valid = (scores >= min_score) & (scores > 0) & np.all(np.isfinite(boxes), axis=1)
    valid &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores = boxes[valid], scores[valid]
    if len(scores) == 0:
        return empty_detections()
    keep = nms(boxes, scores, nms_iou)
    return PatchDetections(boxes_patch_px=boxes[keep], scores=scores[keep])


def batch_result(
    gate_scores: np.ndarray,
    passed_index: np.ndarray,
    boxes_patch_px: np.ndarray,
    box_scores: np.ndarray,
    min_score: float,
    nms_iou: float,
    max_boxes: int | None = None,
) -> BatchResult:
    """Turn the contract's raw outputs (M passed patches of N) into one PatchDetections per input patch.

    max_boxes: the model's own proposal limit (rpn_post_nms_top_n); more boxes per patch, or scores outside
    [0, 1], break the contract and are refused before any NMS runs on them.
    """
    gate_scores = np.asarray(gate_scores, dtype=np.float32).reshape(-1)
    check_raw_outputs(gate_scores, np.asarray(boxes_patch_px), np.asarray(box_scores), max_boxes)
    detections = [empty_detections() for _ in range(len(gate_scores))]
    for row, patch_index in enumerate(np.asarray(passed_index, dtype=np.int64).reshape(-1)):
        if not 0 <= patch_index < len(gate_scores):
            raise ValueError(f"passed_index {patch_index} outside the batch of {len(gate_scores)}")
        detections[patch_index] = filter_patch(boxes_patch_px[row], box_scores[row], min_score, nms_iou)
    return BatchResult(gate_scores=gate_scores, detections=detections)


def check_raw_outputs(gate_scores: np.ndarray, boxes: np.ndarray, scores: np.ndarray, max_boxes: int | None) -> None:
    """The contract's ranges: probabilities in [0, 1] (NaN is no probability), at most max_boxes per patch."""
    if boxes.ndim == 3 and max_boxes is not None and boxes.shape[1] > max_boxes:
        raise ModelOutputError(
            f"{boxes.shape[1]} boxes per patch, past the model's own proposal limit of {max_boxes} "
            "(rpn_post_nms_top_n in its r2cnn_config)"
        )
    for name, values in (("gate scores", gate_scores), ("box scores", scores)):
        values = np.asarray(values, dtype=np.float32)
        inside = (values >= -_ROUNDING) & (values <= 1.0 + _ROUNDING)  # NaN is outside
        if not np.all(inside):
            bad = values[~inside].reshape(-1)[0]
            raise ModelOutputError(f"{name} must be probabilities in [0, 1]; the model gave {float(bad):g}")
