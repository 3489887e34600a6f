"""Tiny-Net (R2-CNN Table I): a light trunk trained from scratch, full resolution at conv-1."""

from __future__ import annotations

import torch
from torch import nn

from engine.contract import FEATURE_STRIDE_PX


class ConvBnRelu(nn.Sequential):
    """3x3 (or 1x1) conv, batch norm, ReLU: the unit every branch is built from."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1):
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """ResNet basic block; the first block of a stage downsamples and widens."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            ConvBnRelu(in_ch, out_ch, 3, stride),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_ch == out_ch
            else nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def residual_stage(in_ch: int, out_ch: int, blocks: int) -> nn.Sequential:
    """One stride-2 stage of Table I."""
    return nn.Sequential(ResidualBlock(in_ch, out_ch, 2), *[ResidualBlock(out_ch, out_ch) for _ in range(blocks - 1)])


class TinyNet(nn.Module):
    """conv-1 [3x3,12]x2 at stride 1, then stages of 18/36/48/72 channels, 2/2/3/2 blocks, strides 2..16."""

    STRIDE8_CHANNELS = 48
    STRIDE16_CHANNELS = 72
    STRIDE8_PX = 8  # conv-4's stride: the detector's features
    STRIDE16_PX = FEATURE_STRIDE_PX  # conv-5's, the coarsest: patch origins in a window align to it

    def __init__(self, in_ch: int = 3):
        super().__init__()
        self.conv1 = nn.Sequential(ConvBnRelu(in_ch, 12), ConvBnRelu(12, 12))
        self.conv2 = residual_stage(12, 18, 2)
        self.conv3 = residual_stage(18, 36, 2)
        self.conv4 = residual_stage(36, 48, 3)
        self.conv5 = residual_stage(48, 72, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the stride-8 (conv-4) and stride-16 (conv-5) maps."""
        c4 = self.conv4(self.conv3(self.conv2(self.conv1(x))))
        return c4, self.conv5(c4)
