"""The patch gate: a cheap 'does this patch hold an aircraft?' head that spares the detector."""

from __future__ import annotations

import torch
from torch import nn

from engine.network.tinynet import ConvBnRelu


class PatchClassifier(nn.Module):
    """Two conv-bn-relu, global average pooling, 1x1 conv -> logits over {no aircraft, aircraft}."""

    def __init__(self, in_ch: int, hidden: int = 64):
        super().__init__()
        self.body = nn.Sequential(ConvBnRelu(in_ch, hidden), ConvBnRelu(hidden, hidden))
        self.logits = nn.Conv2d(hidden, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.body(x).mean(dim=(2, 3), keepdim=True)
        return self.logits(pooled).flatten(1)
