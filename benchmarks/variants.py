"""The model variants the benchmark compares (fp32 / int8, per-patch / window graph), found beside the
base model or made once from it (and its checkpoint) into a cache folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.contract import CONFIG_KEY, GATE_OFF

VARIANTS = ("fp32", "int8", "window", "window.int8")


def variant_name(base: Path, variant: str) -> str:
    """r2cnn_aircraft.onnx -> r2cnn_aircraft.window.int8.onnx (fp32 is the base itself)."""
    return base.name if variant == "fp32" else f"{base.stem}.{variant}.onnx"


def default_checkpoint(base: Path) -> Path | None:
    """The checkpoint shipped beside the model (r2cnn_aircraft.pt), needed to export the window graph."""
    candidate = base.with_suffix(".pt")
    return candidate if candidate.is_file() else None


def resolve_variants(
    base: Path, wanted: list[str], cache_dir: Path, checkpoint: Path | None, log=None
) -> dict[str, Path]:
    """Path of each wanted variant: beside the base model if there, else made into cache_dir (and remade
    when older than the base). Variants that cannot be made (no checkpoint for a window graph) are left
    out, with a note."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    found: dict[str, Path] = {}
    for variant in VARIANTS:
        if variant not in wanted:
            continue
        if variant == "fp32":
            found[variant] = base
            continue
        beside = base.with_name(variant_name(base, variant))
        if beside.is_file():
            found[variant] = beside
            continue
        cached = cache_dir / variant_name(base, variant)
        if cached.is_file() and cached.stat().st_mtime >= base.stat().st_mtime:
            found[variant] = cached
            continue
        cache_dir.mkdir(parents=True, exist_ok=True)
        made = _make(variant, base, cached, cache_dir, checkpoint, found, log)
        if made is not None:
            found[variant] = made
    return found


def _make(variant, base: Path, target: Path, cache_dir: Path, checkpoint, found, log) -> Path | None:
    """One variant: the window graph from the checkpoint, int8 by quantizing its fp32 counterpart."""
    if variant == "window":
        if checkpoint is None:
            log(f"no checkpoint beside {base} (pass --checkpoint): window-graph configurations skipped")
            return None
        log(f"exporting the window graph of {checkpoint} -> {target} (once)")
        export_window_variant(checkpoint, base, target)
        return target
    source = base if variant == "int8" else found.get("window")
    if source is None:
        source = _make("window", base, cache_dir / variant_name(base, "window"), cache_dir, checkpoint, found, log)
        if source is None:
            return None
    log(f"quantizing {source} -> {target} (once)")
    from engine.export.quantize import quantize_model

    quantize_model(str(source), str(target))
    return target


def export_window_variant(checkpoint: Path, base: Path, target: Path) -> None:
    """Same weights as the checkpoint, the base model's metadata (thresholds, licence, metrics)."""
    import dataclasses

    from engine.export.window_export import export_window_onnx
    from engine.model_metadata import model_config, read_file_metadata
    from engine.runtime.torch_runtime import load_torch_detector

    model = load_torch_detector(str(checkpoint), device="cpu").model
    metadata = read_file_metadata(str(base))
    shipped = model_config(metadata, str(base))
    del metadata[CONFIG_KEY]  # export_window_onnx writes the configuration it is given
    if dataclasses.replace(model.config, score_threshold=0, gate_threshold=0) != dataclasses.replace(
        shipped, score_threshold=0, gate_threshold=0
    ):
        raise ValueError(f"{checkpoint} is not the checkpoint of {base} (their configurations differ)")
    model.config = shipped
    export_window_onnx(model, os.fspath(target), shipped, metadata)
    check_same_weights(base, target)


def check_same_weights(base: Path, window: Path) -> None:
    """A generated patch through both graphs (a 1 x 1 window is exactly the per-patch computation)."""
    import numpy as np

    from engine.runtime.onnx_runtime import load_onnx_detector
    from engine.synthetic.scene_generator import render_training_patch

    image, _ = render_training_patch(np.random.default_rng(0), size_px=load_onnx_detector(str(base)).config.patch_size)
    patch = np.ascontiguousarray(image.transpose(2, 0, 1))[None]
    ours = load_onnx_detector(str(window), device="cpu")(patch, GATE_OFF)
    theirs = load_onnx_detector(str(base), device="cpu")(patch, GATE_OFF)
    if not np.allclose(ours.gate_scores, theirs.gate_scores, atol=1e-4):
        os.unlink(window)
        raise ValueError(f"the checkpoint's window graph disagrees with {base}: not the same weights")
