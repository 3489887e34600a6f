"""Warm start: copy a trained checkpoint's weights into a (possibly re-anchored) network before training."""

from __future__ import annotations

import math
import os

import torch

from engine.config import ModelConfig
from engine.network.checkpoint import load_checkpoint
from engine.network.r2cnn import R2CNN

PER_ANCHOR = {"rpn.objectness.weight": 1, "rpn.objectness.bias": 1, "rpn.deltas.weight": 4, "rpn.deltas.bias": 4}


def nearest_anchor(old_sizes_px: tuple[float, ...], size_px: float) -> int:
    """The old anchor closest in log size: its RPN channels start a new anchor's."""
    return min(range(len(old_sizes_px)), key=lambda i: abs(math.log(old_sizes_px[i] / size_px)))


def warm_start(model: R2CNN, path: str | os.PathLike) -> list[str]:
    """Load path's weights into model (weights_only); RPN channels are remapped by anchor size. Returns notes."""
    state = load_checkpoint(path)
    old_sizes = ModelConfig.from_json(state["model_config"]).anchor_sizes_px
    new_sizes = model.config.anchor_sizes_px
    source = state["model"]
    target = model.state_dict()
    notes = []
    for name, tensor in target.items():
        if name not in source:
            notes.append(f"{name}: not in {path}, left as initialised")
            continue
        weights = source[name]
        if name in PER_ANCHOR and weights.shape != tensor.shape:
            per = PER_ANCHOR[name]
            rows = [nearest_anchor(old_sizes, size) for size in new_sizes]
            index = torch.tensor([row * per + k for row in rows for k in range(per)])
            weights = weights.index_select(0, index)
            notes.append(f"{name}: anchors {new_sizes} start from old anchors {rows}")
        if weights.shape != tensor.shape:
            raise ValueError(f"cannot warm-start {name}: {tuple(weights.shape)} vs {tuple(tensor.shape)}")
        target[name] = weights
    model.load_state_dict(target)
    return notes
