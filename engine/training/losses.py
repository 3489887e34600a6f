"""The unified loss (R2-CNN Eq. 1) and JOL's weighting (Shi et al. 2025) for the R-FCN head."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.ops.boxes import RFCN_WEIGHTS, box_iou, decode_boxes

JOL_LAMBDA = 2.0
RPN_BETA = 1.0 / 9.0


def jol_weights(
    cls_logits: torch.Tensor, labels: torch.Tensor, decoded: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """w+ = lambda^(1 - S_loc * S_cls) for positives; negatives get the batch mean of w+ (no gradient).

    S_cls: predicted probability of the true class; S_loc: IoU of the decoded box with its target.
    Tiny, hard samples (low IoU or low confidence) weigh up to 2x; easy ones stay at 1.
    """
    with torch.no_grad():
        probs = cls_logits.softmax(dim=-1)
        s_cls = probs.gather(-1, labels[..., None]).squeeze(-1)
        s_loc = box_iou(decoded[..., None, :], targets[..., None, :])[..., 0, 0]
        positive = labels == 1
        w_pos = JOL_LAMBDA ** (1.0 - s_loc * s_cls)
        neg_weight = w_pos[positive].mean() if positive.any() else torch.ones((), dtype=w_pos.dtype)
        return torch.where(positive, w_pos, neg_weight.expand_as(w_pos))


def rpn_loss(
    logits: torch.Tensor, deltas: torch.Tensor, labels: torch.Tensor, box_targets: torch.Tensor
) -> torch.Tensor:
    """Objectness BCE over sampled anchors + smooth-L1 on positives, normalised by the sample count."""
    sampled = labels >= 0
    count = sampled.sum().clamp(min=1)
    cls = F.binary_cross_entropy_with_logits(logits[sampled], labels[sampled].float(), reduction="sum")
    positive = labels == 1
    loc = F.smooth_l1_loss(deltas[positive], box_targets[positive], beta=RPN_BETA, reduction="sum")
    return (cls + loc) / count


def rfcn_loss(
    cls_logits: torch.Tensor,
    box_deltas: torch.Tensor,
    rois: torch.Tensor,
    labels: torch.Tensor,
    matched_gt: torch.Tensor,
    box_targets: torch.Tensor,
    use_jol: bool,
    ohem_per_patch: int,
    loc_weight: float = 1.0,
) -> torch.Tensor:
    """Per-RoI softmax + smooth-L1 (positives), optionally JOL-weighted, then OHEM keeps the hardest RoIs."""
    per_roi = F.cross_entropy(cls_logits.flatten(0, 1), labels.flatten(), reduction="none").view_as(labels).float()
    loc = F.smooth_l1_loss(box_deltas, box_targets, beta=1.0, reduction="none").sum(dim=-1)
    per_roi = per_roi + loc_weight * loc * (labels == 1).float()
    if use_jol:
        decoded = decode_boxes(rois, box_deltas.detach(), RFCN_WEIGHTS)
        per_roi = per_roi * jol_weights(cls_logits, labels, decoded, matched_gt)
    keep = min(ohem_per_patch, per_roi.shape[1])
    hardest = per_roi.detach().topk(keep, dim=1).indices
    return per_roi.gather(1, hardest).mean()


def gate_loss(gate_logits: torch.Tensor, patch_has_aircraft: torch.Tensor) -> torch.Tensor:
    """Softmax loss of the patch classifier, always on (Eq. 1's first term)."""
    return F.cross_entropy(gate_logits, patch_has_aircraft.long())
