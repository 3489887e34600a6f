"""R2-CNN (paper Fig. 2): Tiny-Net + global attention -> patch gate; gated patches -> RPN + R-FCN."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.anchors.anchor_grid import anchor_grid_patch_px
from engine.config import ModelConfig
from engine.network.global_attention import GlobalAttention
from engine.network.patch_classifier import PatchClassifier
from engine.network.rfcn_head import RfcnHead
from engine.network.rpn import RpnHead, select_proposals
from engine.network.tinynet import TinyNet
from engine.network.zoom import ZoomOutZoomIn
from engine.ops.boxes import RFCN_WEIGHTS, clip_boxes, decode_boxes

DETECTOR_CHANNELS = 96


@dataclass
class SharedFeatures:
    """What the trunk computes once per patch and both branches read."""

    gate_logits: torch.Tensor  # (N, 2)
    stride8: torch.Tensor  # (N, 48, H/8, W/8)
    stride16: torch.Tensor  # (N, 72, H/16, W/16), after global attention


@dataclass(frozen=True)
class Proposals:
    """The RPN's outputs on the detector features and the proposals it selects per patch."""

    logits: torch.Tensor  # (N, A) objectness logits, A = H/8 * W/8 * anchors per cell
    deltas: torch.Tensor  # (N, A, 4)
    anchors: torch.Tensor  # (A, 4) in patch px
    rois: torch.Tensor  # (N, K, 4) in patch px, no gradient
    roi_scores: torch.Tensor  # (N, K) objectness, 0 where suppressed or degenerate


@dataclass(frozen=True)
class Detections:
    """The detector branch's outputs: proposals, the rois R-FCN scored, and its logits and deltas."""

    proposals: Proposals
    rois: torch.Tensor  # (N, R, 4): proposals.rois, then any extra rois
    cls_logits: torch.Tensor  # (N, R, 2)
    box_deltas: torch.Tensor  # (N, R, 4)


class R2CNN(nn.Module):
    """The unified network; forward() is the exported inference graph (see docs/ARCHITECTURE.md)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.tensor(config.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(config.std, dtype=torch.float32).view(1, -1, 1, 1))
        self.tiny_net = TinyNet(config.in_channels)
        self.attention = GlobalAttention(TinyNet.STRIDE16_CHANNELS)
        self.classifier = PatchClassifier(TinyNet.STRIDE16_CHANNELS, pooling=config.gate_pooling)
        self.zoom = ZoomOutZoomIn(TinyNet.STRIDE8_CHANNELS, TinyNet.STRIDE16_CHANNELS, DETECTOR_CHANNELS)
        self.rpn = RpnHead(DETECTOR_CHANNELS, len(config.anchor_sizes_px))
        self.rfcn = RfcnHead(DETECTOR_CHANNELS, config.anchor_stride, config.psroi_k, config.psroi_samples)

    def trunk(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalise 0..255 input (patches or whole windows) and run Tiny-Net: its stride-8 and stride-16 maps."""
        # contiguous: channels-last input (a permuted numpy array) corrupts memory in conv backward (torch 2.13 CPU)
        return self.tiny_net((images.contiguous() - self.mean) / self.std)

    def attend_and_classify(self, stride16: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One patch's stride-16 maps -> (after global attention, the gate's logits)."""
        attended = self.attention(stride16)
        return attended, self.classifier(attended)

    def shared_features(self, images: torch.Tensor) -> SharedFeatures:
        """Normalise 0..255 input, run Tiny-Net and the attention block, score the patch."""
        stride8, stride16 = self.trunk(images)
        stride16, gate_logits = self.attend_and_classify(stride16)
        return SharedFeatures(gate_logits, stride8, stride16)

    def anchors(self, detector_features: torch.Tensor) -> torch.Tensor:
        """Anchors for this feature map size, in patch px."""
        h, w = detector_features.shape[-2:]
        return anchor_grid_patch_px(
            h, w, self.config.anchor_stride, self.config.anchor_sizes_px, detector_features.device
        )

    def propose(self, detector_features: torch.Tensor, patch_hw: tuple[int, int]) -> Proposals:
        """RPN outputs and the selected proposals (rois, objectness) for the R-FCN head."""
        logits, deltas = self.rpn(detector_features)
        anchors = self.anchors(detector_features)
        with torch.no_grad():
            rois, roi_scores = select_proposals(
                logits.detach(),
                deltas.detach(),
                anchors,
                patch_hw,
                self.config.rpn_pre_nms_top_n,
                self.config.rpn_post_nms_top_n,
                self.config.rpn_nms_iou,
            )
        return Proposals(logits, deltas, anchors, rois, roi_scores)

    def detect(
        self,
        stride8: torch.Tensor,
        stride16: torch.Tensor,
        patch_hw: tuple[int, int],
        extra_rois: torch.Tensor | None = None,
    ) -> Detections:
        """The detector branch (zoom, RPN, R-FCN) on patches' trunk features: inference and training share it.

        extra_rois (N, G, 4) join the proposals before the R-FCN head (training adds the ground truth).
        """
        features = self.zoom(stride8, stride16)
        proposals = self.propose(features, patch_hw)
        rois = proposals.rois if extra_rois is None else torch.cat((proposals.rois, extra_rois), dim=1)
        cls_logits, box_deltas = self.rfcn(features, rois)
        return Detections(proposals, rois, cls_logits, box_deltas)

    def forward(self, images: torch.Tensor, gate_threshold: torch.Tensor):
        """Inference graph: gate every patch, detect only in those that pass."""
        patch_hw = (images.shape[-2], images.shape[-1])
        shared = self.shared_features(images)
        gate_scores, passed_index = gate_decision(shared.gate_logits, gate_threshold)
        detections = self.detect(shared.stride8[passed_index], shared.stride16[passed_index], patch_hw)
        boxes, box_scores = decode_detections(detections, patch_hw)
        return gate_scores, passed_index, boxes, box_scores


def gate_decision(gate_logits: torch.Tensor, gate_threshold: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gate: aircraft probability per patch (N,) and the indices of the patches scoring >= the threshold."""
    gate_scores = gate_logits.softmax(dim=1)[:, 1]
    return gate_scores, torch.nonzero(gate_scores >= gate_threshold).reshape(-1)


def decode_detections(detections: Detections, patch_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inference boxes (N, K, 4) clipped to the patch and aircraft scores (N, K), 0 for suppressed proposals."""
    if detections.rois is not detections.proposals.rois:
        raise ValueError("decode_detections: only proposals have objectness (no extra_rois at inference)")
    boxes = decode_boxes(detections.rois, detections.box_deltas, RFCN_WEIGHTS)
    boxes = clip_boxes(boxes, patch_hw[0], patch_hw[1])
    cls_logits = detections.cls_logits
    live = (detections.proposals.roi_scores > 0).to(cls_logits.dtype)
    return boxes, cls_logits.softmax(dim=-1)[..., 1] * live


def build_r2cnn(config: ModelConfig | None = None) -> R2CNN:
    """A fresh network with the paper's N(0, 0.01) init for the heads (trained from scratch)."""
    model = R2CNN(config or ModelConfig())
    for head in (
        model.rpn.objectness,
        model.rpn.deltas,
        model.rfcn.cls_maps,
        model.rfcn.box_maps,
        model.classifier.logits,
    ):
        nn.init.normal_(head.weight, std=0.01)
        nn.init.zeros_(head.bias)
    return model
