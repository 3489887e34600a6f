"""Region proposal network at anchor stride 8, and the in-graph proposal selection."""

from __future__ import annotations

import torch
from torch import nn

from engine.ops.boxes import RPN_WEIGHTS, clip_boxes, decode_boxes
from engine.ops.nms import fast_nms_keep

MIN_PROPOSAL_SIDE_PX = 2.0


class RpnHead(nn.Module):
    """3x3 conv then objectness and box deltas per anchor, flattened in (y, x, anchor) order."""

    def __init__(self, in_ch: int, num_anchors: int, hidden: int = 96):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_ch, hidden, 3, padding=1), nn.ReLU(inplace=True))
        self.objectness = nn.Conv2d(hidden, num_anchors, 1)
        self.deltas = nn.Conv2d(hidden, num_anchors * 4, 1)
        self.num_anchors = num_anchors

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return objectness logits (N, H*W*A) and deltas (N, H*W*A, 4)."""
        h = self.conv(x)
        n, _, height, width = x.shape
        count = height * width * self.num_anchors  # explicit sizes: a -1 cannot resolve an empty batch
        logits = self.objectness(h).permute(0, 2, 3, 1).reshape(n, count)
        deltas = self.deltas(h).permute(0, 2, 3, 1).reshape(n, count, 4)
        return logits, deltas


def select_proposals(
    logits: torch.Tensor,
    deltas: torch.Tensor,
    anchors_patch_px: torch.Tensor,
    patch_hw: tuple[int, int],
    pre_nms_top_n: int,
    post_nms_top_n: int,
    nms_iou: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k proposals per patch with fast NMS: a fixed K per patch keeps the whole batch one tensor.

    Returns rois (N, K, 4) in patch px and their objectness (N, K); suppressed or degenerate
    proposals keep their slot with objectness 0 so the R-FCN head can ignore them.
    """
    pre_n = min(pre_nms_top_n, logits.shape[1])
    scores, order = logits.sigmoid().topk(pre_n, dim=1)
    boxes = decode_boxes(anchors_patch_px[order], deltas.gather(1, order[..., None].expand(-1, -1, 4)), RPN_WEIGHTS)
    boxes = clip_boxes(boxes, patch_hw[0], patch_hw[1])
    big_enough = ((boxes[..., 2] - boxes[..., 0]) >= MIN_PROPOSAL_SIDE_PX) & (
        (boxes[..., 3] - boxes[..., 1]) >= MIN_PROPOSAL_SIDE_PX
    )
    keep = fast_nms_keep(boxes, scores, nms_iou) & big_enough
    scores = scores * keep.to(scores.dtype)
    post_n = min(post_nms_top_n, pre_n)
    top_scores, top = scores.topk(post_n, dim=1)
    rois = boxes.gather(1, top[..., None].expand(-1, -1, 4))
    return rois, top_scores
