"""The one checkpoint format: tensors and plain values only, so every load can use weights_only=True."""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from typing import Any

import torch

from engine.atomic_output import atomic_output
from engine.config import ModelConfig
from engine.errors import first_line
from engine.network.r2cnn import R2CNN, build_r2cnn

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
    """Rebuild the eval-mode network from a checkpoint (weights_only: checkpoints are untrusted input too).

    A file that is not one raises ValueError saying what is wrong in words (torch's own errors read
    "130" or "list index out of range"); a pickle that needs more than weights stays UnpicklingError.
    """
    _check_torch_file(path)
    try:
        state = load_checkpoint(path)
    except pickle.UnpicklingError:
        raise
    except Exception as exc:
        raise ValueError(f"not a readable torch checkpoint (corrupt or truncated: {first_line(exc, 160)})") from exc
    if not (isinstance(state, dict) and isinstance(state.get("model"), dict)
            and isinstance(state.get("model_config"), str)):
        raise ValueError("a torch file, but not an r2cnn checkpoint (no 'model' weights and 'model_config')")
    try:
        model = build_r2cnn(ModelConfig.from_json(state["model_config"]))
    except Exception as exc:
        raise ValueError(f"its model configuration is not usable ({first_line(exc, 160)})") from exc
    try:
        model.load_state_dict(state["model"])
    except Exception as exc:
        raise ValueError(f"its weights do not fit the network it describes ({first_line(exc, 160)})") from exc
    return model.eval()


def _check_torch_file(path: str | os.PathLike) -> None:
    """A torch file is a zip archive (torch.save) or a pickle (the legacy format); anything else is refused."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if not head:
        raise ValueError("the file is empty")
    if head != b"PK" and head[:1] != b"\x80":
        raise ValueError("not a torch checkpoint (neither a torch zip archive nor a pickle)")


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
