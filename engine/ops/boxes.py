"""Box arithmetic in plain torch (torchvision's compiled ops do not load here); exports to ONNX."""

from __future__ import annotations

import math

import torch

# dw/dh clamp when decoding, as in Faster R-CNN: exp() of larger values overflows for no gain.
DELTA_CLAMP = math.log(1000.0 / 16)
RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
RFCN_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area of (..., 4) x0,y0,x1,y1 boxes (degenerate boxes count 0)."""
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of (..., A, 4) and (..., B, 4) -> (..., A, B); batch dims broadcast.

    Built one coordinate at a time, (A, 1) against (1, B): the same arithmetic as broadcasting
    (A, 1, 2) corner pairs, but ONNX Runtime runs it on contiguous rows, much faster.
    """
    ax0, ay0, ax1, ay1 = (c[..., :, None] for c in boxes_a.unbind(-1))
    bx0, by0, bx1, by1 = (c[..., None, :] for c in boxes_b.unbind(-1))
    width = (torch.minimum(ax1, bx1) - torch.maximum(ax0, bx0)).clamp(min=0)
    height = (torch.minimum(ay1, by1) - torch.maximum(ay0, by0)).clamp(min=0)
    inter = width * height
    union = box_area(boxes_a)[..., :, None] + box_area(boxes_b)[..., None, :] - inter
    return inter / union.clamp(min=1e-6)


def encode_boxes(reference: torch.Tensor, target: torch.Tensor, weights=RPN_WEIGHTS) -> torch.Tensor:
    """Faster R-CNN deltas (dx, dy, dw, dh) that move `reference` boxes onto `target` boxes."""
    wx, wy, ww, wh = weights
    ref_w = (reference[..., 2] - reference[..., 0]).clamp(min=1e-3)
    ref_h = (reference[..., 3] - reference[..., 1]).clamp(min=1e-3)
    ref_cx = reference[..., 0] + 0.5 * ref_w
    ref_cy = reference[..., 1] + 0.5 * ref_h
    tgt_w = (target[..., 2] - target[..., 0]).clamp(min=1e-3)
    tgt_h = (target[..., 3] - target[..., 1]).clamp(min=1e-3)
    tgt_cx = target[..., 0] + 0.5 * tgt_w
    tgt_cy = target[..., 1] + 0.5 * tgt_h
    return torch.stack(
        (
            wx * (tgt_cx - ref_cx) / ref_w,
            wy * (tgt_cy - ref_cy) / ref_h,
            ww * torch.log(tgt_w / ref_w),
            wh * torch.log(tgt_h / ref_h),
        ),
        dim=-1,
    )


def decode_boxes(reference: torch.Tensor, deltas: torch.Tensor, weights=RPN_WEIGHTS) -> torch.Tensor:
    """Inverse of encode_boxes, with dw/dh clamped so exp() stays finite."""
    wx, wy, ww, wh = weights
    ref_w = reference[..., 2] - reference[..., 0]
    ref_h = reference[..., 3] - reference[..., 1]
    ref_cx = reference[..., 0] + 0.5 * ref_w
    ref_cy = reference[..., 1] + 0.5 * ref_h
    cx = deltas[..., 0] / wx * ref_w + ref_cx
    cy = deltas[..., 1] / wy * ref_h + ref_cy
    w = torch.exp((deltas[..., 2] / ww).clamp(max=DELTA_CLAMP)) * ref_w
    h = torch.exp((deltas[..., 3] / wh).clamp(max=DELTA_CLAMP)) * ref_h
    return torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def clip_boxes(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Clip boxes to the patch so no box leaves the pixels it was seen in."""
    x = boxes[..., 0::2].clamp(0, width)
    y = boxes[..., 1::2].clamp(0, height)
    return torch.stack((x[..., 0], y[..., 0], x[..., 1], y[..., 1]), dim=-1)
