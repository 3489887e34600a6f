"""Global attention block: pyramid pooling gives every position context from the whole patch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pyramid_pool(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Average-pool to bins x bins by reshaping (exports with dynamic sizes; H, W divisible by bins)."""
    n, c, h, w = x.shape
    return x.reshape(n, c, bins, h // bins, bins, w // bins).mean(dim=(3, 5))


class GlobalAttention(nn.Module):
    """Pool at 1x1, 2x2, 4x4, 1x1-conv each, upsample bilinearly, add to the input (paper Fig. 3c)."""

    def __init__(self, channels: int, bins: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        self.bins = bins
        self.projections = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
            for _ in bins
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = x
        for bins, projection in zip(self.bins, self.projections, strict=True):
            pooled = projection(pyramid_pool(x, bins))
            fused = fused + F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return fused
