"""Training targets: which anchors and which RoIs are aircraft, and where their boxes should go."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.ops.boxes import box_iou


@dataclass(frozen=True)
class MatchThresholds:
    """IoU rules; lower than Faster R-CNN's 0.7 for the RPN because tiny boxes overlap anchors little."""

    rpn_positive: float = 0.5
    rpn_negative: float = 0.3
    roi_positive: float = 0.5


def match_anchors(
    anchors: torch.Tensor, gt_boxes: torch.Tensor, gt_valid: torch.Tensor, thresholds: MatchThresholds
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label anchors 1 / 0 / -1 (ignore) per patch and return the matched gt box of each anchor.

    anchors (A, 4); gt_boxes (N, G, 4) padded with gt_valid (N, G). Every gt also claims its
    best anchor(s), so even a 6 px aircraft gets a positive.
    """
    n, g = gt_valid.shape
    a = anchors.shape[0]
    if g == 0:
        return torch.zeros(n, a, dtype=torch.long), torch.zeros(n, a, 4)
    iou = box_iou(anchors.expand(n, a, 4), gt_boxes)  # (N, A, G)
    iou = iou.masked_fill(~gt_valid[:, None, :], -1.0)
    best_iou, best_gt = iou.max(dim=2)
    labels = torch.full((n, a), -1, dtype=torch.long)
    labels[best_iou < thresholds.rpn_negative] = 0
    labels[best_iou >= thresholds.rpn_positive] = 1
    best_per_gt = iou.max(dim=1, keepdim=True).values  # (N, 1, G)
    is_best = ((iou == best_per_gt) & (best_per_gt > 0) & gt_valid[:, None, :]).any(dim=2)
    labels[is_best] = 1
    matched = gt_boxes.gather(1, best_gt[..., None].expand(n, a, 4))
    return labels, matched


def sample_labels(labels: torch.Tensor, per_patch: int, positive_fraction: float, generator=None) -> torch.Tensor:
    """Keep a random subset of labelled anchors per patch (at most positive_fraction positives); others -> -1."""
    sampled = torch.full_like(labels, -1)
    for i in range(labels.shape[0]):
        pos = torch.nonzero(labels[i] == 1).flatten()
        neg = torch.nonzero(labels[i] == 0).flatten()
        num_pos = min(pos.numel(), int(per_patch * positive_fraction))
        num_neg = min(neg.numel(), per_patch - num_pos)
        pos = pos[torch.randperm(pos.numel(), generator=generator)[:num_pos]]
        neg = neg[torch.randperm(neg.numel(), generator=generator)[:num_neg]]
        sampled[i, pos] = 1
        sampled[i, neg] = 0
    return sampled


def match_rois(
    rois: torch.Tensor, gt_boxes: torch.Tensor, gt_valid: torch.Tensor, thresholds: MatchThresholds
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label RoIs (N, R, 4) aircraft (1) or background (0) by IoU, with their matched gt boxes."""
    n, r = rois.shape[:2]
    if gt_valid.shape[1] == 0:
        return torch.zeros(n, r, dtype=torch.long), torch.zeros(n, r, 4)
    iou = box_iou(rois, gt_boxes).masked_fill(~gt_valid[:, None, :], -1.0)
    best_iou, best_gt = iou.max(dim=2)
    labels = (best_iou >= thresholds.roi_positive).long()
    matched = gt_boxes.gather(1, best_gt[..., None].expand(n, r, 4))
    return labels, matched
