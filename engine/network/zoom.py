"""Zoom-out / zoom-in: bring stride-16 semantics back to stride 8 so tiny aircraft get anchors."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.network.tinynet import ConvBnRelu, ResidualBlock


class ZoomOutZoomIn(nn.Module):
    """Residual block at stride 16, upsampled x2 and fused with the stride-8 map by a skip connection."""

    def __init__(self, stride8_ch: int, stride16_ch: int, out_ch: int = 96):
        super().__init__()
        self.zoom_out = ResidualBlock(stride16_ch, stride16_ch)
        self.lateral16 = nn.Conv2d(stride16_ch, out_ch, 1)
        self.lateral8 = nn.Conv2d(stride8_ch, out_ch, 1)
        self.fuse = nn.Sequential(ConvBnRelu(out_ch, out_ch), ConvBnRelu(out_ch, out_ch))

    def forward(self, stride8: torch.Tensor, stride16: torch.Tensor) -> torch.Tensor:
        top = self.lateral16(self.zoom_out(stride16))
        up = F.interpolate(top, size=stride8.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(up + self.lateral8(stride8))
