"""One forward pass of the unified loss (Eq. 1): gate always, detector on patches with aircraft (or on all)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.network.r2cnn import R2CNN, SharedFeatures
from engine.ops.boxes import RFCN_WEIGHTS, RPN_WEIGHTS, encode_boxes
from engine.training.losses import gate_loss, rfcn_loss, rpn_loss
from engine.training.patch_sampler import Batch
from engine.training.targets import MatchThresholds, match_anchors, match_rois, sample_labels


@dataclass(frozen=True)
class LossConfig:
    """mu and lambda of Eq. 1 (both 1 in the paper), sampling sizes, and JOL on/off."""

    use_jol: bool = True
    mu: float = 1.0
    loc_weight: float = 1.0
    rpn_samples_per_patch: int = 256
    rpn_positive_fraction: float = 0.5
    ohem_rois_per_patch: int = 128
    thresholds: MatchThresholds = MatchThresholds()
    detector_on_negatives: bool = False  # RPN / R-FCN also learn from crops without aircraft (open land)


def unified_loss(
    model: R2CNN, batch: Batch, config: LossConfig, bf16: bool = False
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its parts; per-patch gate losses are returned for hard negative mining.

    bf16: the trunk runs under CPU autocast; the detector (box decoding, matching) stays float32.
    """
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        trunk = model.shared_features(batch.images)
    shared = SharedFeatures(trunk.gate_logits.float(), trunk.stride8.float(), trunk.stride16.float())
    per_patch_gate = torch.nn.functional.cross_entropy(
        shared.gate_logits, batch.patch_positive.long(), reduction="none"
    )
    parts = {"gate": gate_loss(shared.gate_logits, batch.patch_positive), "gate_per_patch": per_patch_gate.detach()}
    total = parts["gate"]
    positive = torch.nonzero(batch.patch_positive).flatten()
    if positive.numel() == 0:
        return total, parts
    # the paper trains the detector on positive patches only; with detector_on_negatives every anchor and RoI
    # of a crop without aircraft is a background sample, so false alarms on open land are trained against
    trained = torch.arange(len(batch.patch_positive)) if config.detector_on_negatives else positive
    gt_boxes, gt_valid = batch.gt_boxes[trained], batch.gt_valid[trained]
    patch_hw = tuple(batch.images.shape[-2:])
    # ground truth joins the proposals before the R-FCN head, as in Faster R-CNN
    detections = model.detect(shared.stride8[trained], shared.stride16[trained], patch_hw, extra_rois=gt_boxes)
    proposals = detections.proposals

    labels, matched = match_anchors(proposals.anchors, gt_boxes, gt_valid, config.thresholds)
    labels = sample_labels(labels, config.rpn_samples_per_patch, config.rpn_positive_fraction)
    anchor_targets = encode_boxes(proposals.anchors.expand_as(matched), matched, RPN_WEIGHTS)
    parts["rpn"] = rpn_loss(proposals.logits, proposals.deltas, labels, anchor_targets)

    rois = detections.rois
    roi_labels, roi_matched = match_rois(rois, gt_boxes, gt_valid, config.thresholds)
    parts["rfcn"] = rfcn_loss(
        detections.cls_logits,
        detections.box_deltas,
        rois,
        roi_labels,
        roi_matched,
        encode_boxes(rois, roi_matched, RFCN_WEIGHTS),
        config.use_jol,
        config.ohem_rois_per_patch,
        config.loc_weight,
    )
    return total + config.mu * (parts["rpn"] + parts["rfcn"]), parts
