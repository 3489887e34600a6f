"""R-FCN head: position-sensitive score maps pooled per RoI, two classes, class-agnostic boxes."""

from __future__ import annotations

import torch
from torch import nn

from engine.ops.psroi_pool import psroi_align

NUM_CLASSES = 2  # background, aircraft


class RfcnHead(nn.Module):
    """k*k*2 class maps and k*k*4 box maps; each RoI votes by averaging its k x k bins."""

    def __init__(self, in_ch: int, stride: int, k: int = 7, samples: int = 2, hidden: int = 256):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(in_ch, hidden, 1), nn.ReLU(inplace=True))
        self.cls_maps = nn.Conv2d(hidden, k * k * NUM_CLASSES, 1)
        self.box_maps = nn.Conv2d(hidden, k * k * 4, 1)
        self.stride, self.k, self.samples = stride, k, samples

    def forward(self, features: torch.Tensor, rois_patch_px: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return class logits (N, R, 2) and box deltas (N, R, 4) for (N, R, 4) RoIs."""
        h = self.reduce(features)
        cls = psroi_align(self.cls_maps(h), rois_patch_px, self.stride, self.k, NUM_CLASSES, self.samples)
        box = psroi_align(self.box_maps(h), rois_patch_px, self.stride, self.k, 4, self.samples)
        return cls.mean(dim=(3, 4)), box.mean(dim=(3, 4))
