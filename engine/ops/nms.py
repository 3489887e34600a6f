"""In-graph non-maximum suppression for proposals (the exact one runs after the session, in runtime/)."""

from __future__ import annotations

import torch

from engine.ops.boxes import box_iou


def fast_nms_keep(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Keep-mask (N, K) for score-sorted (N, K, 4) boxes: a box survives if no higher-scored box overlaps it.

    Unlike greedy NMS, a suppressed box still suppresses (YOLACT's Fast NMS): slightly stricter,
    but only matrix ops, so it batches over patches and exports to ONNX without loops.
    `scores` must already be sorted in descending order along K (only the order is used).
    """
    iou = box_iou(boxes, boxes).triu(diagonal=1)
    max_overlap_with_better = iou.max(dim=1).values
    return max_overlap_with_better <= iou_threshold
