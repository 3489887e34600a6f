"""The patch gate: a cheap 'does this patch hold an aircraft?' head that spares the detector."""

from __future__ import annotations

import torch
from torch import nn

from engine.network.tinynet import ConvBnRelu


class PatchClassifier(nn.Module):
    """Two conv-bn-relu, global pooling, 1x1 conv -> logits over {no aircraft, aircraft}.

    Max pooling: a single aircraft in a 640 px patch must not be averaged away by 600 px of field (mean
    pooling learned "airport" on 320 px training crops and scored isolated aircraft like empty ground).
    """

    def __init__(self, in_ch: int, hidden: int = 64, pooling: str = "max"):
        super().__init__()
        if pooling not in ("max", "mean"):
            raise ValueError(f"gate pooling must be max or mean, got {pooling!r}")
        self.pooling = pooling
        self.body = nn.Sequential(ConvBnRelu(in_ch, hidden), ConvBnRelu(hidden, hidden))
        self.logits = nn.Conv2d(hidden, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        body = self.body(x)
        pooled = body.amax(dim=(2, 3), keepdim=True) if self.pooling == "max" else body.mean(dim=(2, 3), keepdim=True)
        return self.logits(pooled).flatten(1)
