"""Fit the cascade net on decimated scene views (dense targets: the cells holding an aircraft centre), pick
its threshold on held-out scenes' grid patches so that a stated share of the patches with aircraft (tiny
ones included) is kept, and export it as ONNX with that threshold and the measured share in its metadata."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.atomic_output import atomic_output
from engine.config import CascadeConfig
from engine.contract import CASCADE_INPUT, CASCADE_KEY, CASCADE_OUTPUT, PRODUCER_NAME
from engine.network.cascade_net import CascadeNet
from engine.training.cascade_data import DecimatedScene

TINY_PX = 16.0  # AI-TOD's tiny bin ends here: the calibration reports these apart


@dataclass(frozen=True)
class CascadeFitConfig:
    """Schedule of the cascade's fit."""

    crop_px: int = 80  # decimated px per training crop (320 model px)
    batch_size: int = 48
    lr: float = 3e-3
    minutes: float = 8.0  # wall-clock budget; steps stop there
    max_steps: int = 4000
    positive_share: float = 0.5  # crops centred near an aircraft
    dense_pos_weight: float = 5.0  # a centre cell weighs this many empty cells
    mil_weight: float = 1.0  # the crop's max logit against "holds a centre": what a patch's score is
    keep_target: float = 0.995  # share of patches with aircraft the threshold keeps (held-out)
    seed: int = 22


def _crop(scene: DecimatedScene, rng: np.random.Generator, size: int, stride: int, near: bool) -> tuple:
    """(C, size, size) crop of the view aligned to the map stride and its (size/stride)^2 target / weight maps."""
    channels, height, width = scene.view_u8.shape
    step_model = 4 * stride  # model px per map cell (view px are step_model_px = 4 model px)
    if near and len(scene.boxes_px):
        box = scene.boxes_px[int(rng.integers(len(scene.boxes_px)))]
        cx, cy = (box[0] + box[2]) / 8, (box[1] + box[3]) / 8  # centre in view px
        x0, y0 = int(cx - rng.uniform(0.1, 0.9) * size), int(cy - rng.uniform(0.1, 0.9) * size)
    else:
        x0, y0 = int(rng.integers(0, max(1, width - size))), int(rng.integers(0, max(1, height - size)))
    x0 = int(np.clip(x0 // stride * stride, 0, max(0, width - size)))
    y0 = int(np.clip(y0 // stride * stride, 0, max(0, height - size)))
    image = np.full((channels, size, size), 110, np.uint8)
    part = scene.view_u8[:, y0 : y0 + size, x0 : x0 + size]
    image[:, : part.shape[1], : part.shape[2]] = part
    cells = size // stride
    target, weight = np.zeros((cells, cells), np.float32), np.ones((cells, cells), np.float32)
    if len(scene.boxes_px):
        cxs = (scene.boxes_px[:, 0] + scene.boxes_px[:, 2]) / 2 / step_model - x0 / stride
        cys = (scene.boxes_px[:, 1] + scene.boxes_px[:, 3]) / 2 / step_model - y0 / stride
        for cx, cy in zip(cxs.tolist(), cys.tolist(), strict=True):
            i, j = int(np.floor(cy)), int(np.floor(cx))
            if -1 <= i <= cells and -1 <= j <= cells:
                weight[max(0, i - 1) : i + 2, max(0, j - 1) : j + 2] = 0.0  # next to a centre: no verdict
            if 0 <= i < cells and 0 <= j < cells:
                target[i, j], weight[i, j] = 1.0, 1.0
    return image, target, weight


def _augment(images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Contrast and offset jitter about the mean grey (a stretch's range moves with the scene)."""
    gain = torch.from_numpy(rng.uniform(0.75, 1.3, (len(images), 1, 1, 1)).astype(np.float32))
    offset = torch.from_numpy(rng.uniform(-15, 15, (len(images), 1, 1, 1)).astype(np.float32))
    return ((images - 110.0) * gain + 110.0 + offset).clamp(0, 255)


def fit_cascade(
    scenes: list[DecimatedScene], config: CascadeFitConfig, net_config: CascadeConfig | None = None,
    log: Callable[[str], None] = print, init: CascadeNet | None = None,
) -> CascadeNet:
    """Dense BCE on crops (half near aircraft), flips and quarter turns, AdamW with cosine decay."""
    net_config = net_config or CascadeConfig()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = init if init is not None else CascadeNet(net_config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    with_aircraft = [s for s in scenes if len(s.boxes_px)]
    started, step, ema = time.perf_counter(), 0, None
    budget = config.minutes * 60.0
    net.train()
    while step < config.max_steps and time.perf_counter() - started < budget:
        lr = config.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, (time.perf_counter() - started) / budget)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = []
        for _ in range(config.batch_size):
            near = bool(with_aircraft) and rng.random() < config.positive_share
            source = with_aircraft if near else scenes
            batch.append(_crop(source[int(rng.integers(len(source)))], rng, config.crop_px, net_config.map_stride,
                               near))
        images = torch.from_numpy(np.stack([b[0] for b in batch]).astype(np.float32))
        target = torch.from_numpy(np.stack([b[1] for b in batch]))
        weight = torch.from_numpy(np.stack([b[2] for b in batch]))
        turns, flip = int(rng.integers(4)), bool(rng.integers(2))
        images, target, weight = (torch.rot90(t, turns, dims=(-2, -1)) for t in (images, target, weight))
        if flip:
            images, target, weight = (t.flip(-1) for t in (images, target, weight))
        logits = net.logit_map(_augment(images, rng))
        pos_weight = torch.tensor(config.dense_pos_weight)
        loss = F.binary_cross_entropy_with_logits(logits, target, weight=weight, pos_weight=pos_weight, reduction="sum")
        loss = loss / float(weight.sum())
        crop_max = (logits - 1e4 * (1 - weight) * (1 - target)).amax(dim=(1, 2))  # cells with no verdict left out
        holds = (target.amax(dim=(1, 2)) > 0).float()
        loss = loss + config.mil_weight * F.binary_cross_entropy_with_logits(crop_max, holds)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 100 == 0:
            log(f"cascade step {step}: loss {ema:.4f}, lr {lr:.2e}, {time.perf_counter() - started:.0f} s")
    log(f"cascade: {step} steps in {time.perf_counter() - started:.0f} s")
    return net.eval()


@torch.no_grad()
def patch_scores(net: CascadeNet, patches_u8: np.ndarray, batch: int = 64) -> np.ndarray:
    """(n,) scores of grid patches (n, 1, s, s) uint8, as the exported graph gives them."""
    out = [net(torch.from_numpy(patches_u8[i : i + batch].astype(np.float32))).numpy()
           for i in range(0, len(patches_u8), batch)]
    return np.concatenate(out) if out else np.zeros(0)


def calibrate(scores: np.ndarray, positive: np.ndarray, smallest_px: np.ndarray, keep_target: float) -> dict:
    """The highest threshold keeping >= keep_target of the positive patches, and what it keeps and passes."""
    pos = np.sort(scores[positive])
    if not len(pos):
        raise ValueError("no patch with aircraft to calibrate on")
    allowed = int(np.floor((1.0 - keep_target) * len(pos)))  # positives that may fall below the threshold
    threshold = float(pos[allowed])
    tiny = positive & (smallest_px < TINY_PX)
    return {
        "threshold": threshold,
        "positive_patches": int(positive.sum()),
        "kept_share": round(float((scores[positive] >= threshold).mean()), 4),
        "tiny_patches": int(tiny.sum()),
        "tiny_kept_share": round(float((scores[tiny] >= threshold).mean()), 4) if tiny.any() else None,
        "negative_patches": int((~positive).sum()),
        "negative_pass_share": round(float((scores[~positive] >= threshold).mean()), 4) if (~positive).any() else None,
        "pass_share": round(float((scores >= threshold).mean()), 4),
    }


def export_cascade(net: CascadeNet, path: str, config: CascadeConfig, provenance: dict) -> None:
    """ONNX (opset 17, dynamic batch and size) with the CascadeConfig and provenance as metadata, written whole."""
    import onnx

    net = CascadeNet(config).eval() if net is None else net
    net.config = config
    side = 640 // int(config.step_model_px)
    example = torch.full((1, int(config.in_channels), side, side), 110.0)
    with atomic_output(path, suffix=".onnx") as tmp:
        torch.onnx.export(
            net, (example,), tmp, input_names=[CASCADE_INPUT], output_names=[CASCADE_OUTPUT], opset_version=17,
            dynamic_axes={CASCADE_INPUT: {0: "n", 2: "h", 3: "w"}, CASCADE_OUTPUT: {0: "n"}}, dynamo=False,
        )
        model = onnx.load(tmp)
        model.producer_name = PRODUCER_NAME
        for key, value in ((CASCADE_KEY, json.dumps(dataclasses.asdict(config))),
                           ("r2cnn_cascade_provenance", json.dumps(provenance))):
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, tmp)
