"""The RPN's proposal selection for the window graph: the same values as rpn.select_proposals, with the
fast-NMS IoU matrix built one coordinate at a time. box_iou broadcasts (K, 1, 2) against (1, K, 2),
which ONNX Runtime runs as slow element-wise Max / Min with a size-2 inner axis (about a sixth of the
time of a patch that reaches the detector); (K, 1) against (1, K) per coordinate is the same
arithmetic, element for element, on contiguous rows."""

from __future__ import annotations

import torch

from engine.network.r2cnn import R2CNN
from engine.network.rpn import MIN_PROPOSAL_SIDE_PX
from engine.ops.boxes import RPN_WEIGHTS, clip_boxes, decode_boxes


def propose(model: R2CNN, detector_features: torch.Tensor, patch_hw: tuple[int, int]):
    """rois (N, K, 4) in patch px and their objectness (N, K), as R2CNN.propose returns them."""
    config = model.config
    logits, deltas = model.rpn(detector_features)
    anchors = model.anchors(detector_features)
    pre_n = min(config.rpn_pre_nms_top_n, logits.shape[1])
    scores, order = logits.sigmoid().topk(pre_n, dim=1)
    boxes = decode_boxes(anchors[order], deltas.gather(1, order[..., None].expand(-1, -1, 4)), RPN_WEIGHTS)
    boxes = clip_boxes(boxes, patch_hw[0], patch_hw[1])
    big_enough = ((boxes[..., 2] - boxes[..., 0]) >= MIN_PROPOSAL_SIDE_PX) & (
        (boxes[..., 3] - boxes[..., 1]) >= MIN_PROPOSAL_SIDE_PX
    )
    keep = fast_nms_keep_by_coordinate(boxes, config.rpn_nms_iou) & big_enough
    scores = scores * keep.to(scores.dtype)
    top_scores, top = scores.topk(min(config.rpn_post_nms_top_n, pre_n), dim=1)
    return boxes.gather(1, top[..., None].expand(-1, -1, 4)), top_scores


def fast_nms_keep_by_coordinate(boxes: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """ops.nms.fast_nms_keep for score-sorted (N, K, 4) boxes: True where no better box overlaps more."""
    x0, y0, x1, y1 = boxes.unbind(-1)  # (N, K) each
    width = (torch.minimum(x1[:, :, None], x1[:, None, :]) - torch.maximum(x0[:, :, None], x0[:, None, :])).clamp(min=0)
    height = (torch.minimum(y1[:, :, None], y1[:, None, :]) - torch.maximum(y0[:, :, None], y0[:, None, :])).clamp(
        min=0
    )
    inter = width * height
    area = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    iou = inter / (area[:, :, None] + area[:, None, :] - inter).clamp(min=1e-6)
    return iou.triu(diagonal=1).max(dim=1).values <= iou_threshold
