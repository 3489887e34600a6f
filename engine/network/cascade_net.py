"""The cascade's first look: a tiny fully convolutional net on a decimated view that says which patches may
hold an aircraft, so the trunk never runs on the rest. A few thousand parameters, about 1 % of the trunk's
cost per patch."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import CascadeConfig
from engine.network.tinynet import ConvBnRelu


class CascadeNet(nn.Module):
    """Four conv-bn-relu (3x3: 8, 16 stride 2, 16 stride 2, 24) -> 1x1 logit map; a patch scores its map's max."""

    def __init__(self, config: CascadeConfig | None = None):
        super().__init__()
        config = config or CascadeConfig()
        self.config = config
        widths = (config.in_channels, *config.widths)
        self.body = nn.Sequential(
            *(ConvBnRelu(widths[k], widths[k + 1], stride=s) for k, s in enumerate(config.strides))
        )
        self.logits = nn.Conv2d(widths[-1], 1, 1)

    def logit_map(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) 0..255 -> (N, h/4, w/4) logits: does an aircraft centre lie in this cell?"""
        x = (images - self.config.mean) / self.config.std
        return self.logits(self.body(x))[:, 0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) float 0..255 -> (N,) probability that the patch holds an aircraft (the exported graph)."""
        return torch.sigmoid(self.logit_map(images).amax(dim=(1, 2)))


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (the model card quotes it)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
