"""The one checkpoint format: tensors and plain values only, so every load can use weights_only=True."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import torch

from engine.atomic_output import atomic_output
from engine.config import ModelConfig
from engine.network.r2cnn import R2CNN, build_detector

_PLAIN = (str, bytes, int, float, bool, type(None))  # exact types: a subclass may need its class to load
_RESERVED = ("model", "model_config")


def save_checkpoint(path: str | os.PathLike, model: R2CNN, **extra: Any) -> None:
    """Write {"model": state_dict, "model_config": JSON, **extra} atomically; extras must be plain values."""
    clash = [key for key in _RESERVED if key in extra]
    if clash:
        raise ValueError(f"save_checkpoint: {clash} are written from the model itself")
    for key, value in extra.items():
        _check_plain(key, value)
    state = {"model": model.state_dict(), "model_config": model.config.to_json(), **extra}
    with atomic_output(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint dict on the CPU; weights_only=True: a pickle from elsewhere is never executed."""
    return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint_model(path: str | os.PathLike) -> R2CNN:
    """Rebuild the eval-mode network from a checkpoint (weights_only: checkpoints are untrusted input too)."""
    state = load_checkpoint(path)
    model = build_detector(ModelConfig.from_json(state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval()


def _check_plain(where: str, value: Any) -> None:
    """Refuse at save time what a weights_only load would refuse later (objects, functions, classes)."""
    if type(value) in (dict, OrderedDict):
        for key, item in value.items():
            _check_plain(f"{where}[{key!r}]", key)
            _check_plain(f"{where}[{key!r}]", item)
    elif type(value) in (list, tuple):
        for index, item in enumerate(value):
            _check_plain(f"{where}[{index}]", item)
    elif not (type(value) in _PLAIN or isinstance(value, torch.Tensor)):
        raise TypeError(f"save_checkpoint: {where} is a {type(value).__name__}, not a tensor or plain value")
