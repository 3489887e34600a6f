"""Training batches: crops around aircraft (positives) and aircraft-free crops (negatives, hard ones mined)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import ModelConfig
from engine.pipeline.scene import patch_fill_value
from engine.training.augment import photometric, rotate_flip


@dataclass(frozen=True)
class SamplerConfig:
    """Crop size and the paper's 1 : 3 positive : negative patch ratio."""

    crop_px: int = 320
    positives_per_batch: int = 2
    negatives_per_batch: int = 6
    scale_jitter: tuple[float, float] = (0.8, 1.25)
    synthetic_fraction: float = 0.25
    min_visible_fraction: float = 0.5
    hard_negative_fraction: float = 0.5
    hard_negative_pool: int = 512


@dataclass(frozen=True)
class TrainingImage:
    """One labelled image at the model's ground resolution."""

    image: np.ndarray  # (H, W, 3) uint8
    boxes_px: np.ndarray  # (B, 4) float32
    synthetic: bool = False


@dataclass
class Batch:
    """Tensors for one optimisation step; `negative_keys` lets the trainer report losses back."""

    images: torch.Tensor  # (B, 3, S, S) float32 0..255
    gt_boxes: torch.Tensor  # (B, G, 4) padded
    gt_valid: torch.Tensor  # (B, G) bool
    patch_positive: torch.Tensor  # (B,) bool
    negative_keys: list[tuple[int, int, int, int, int] | None]


def crop_and_resize(
    image: np.ndarray, boxes_px: np.ndarray, x: int, y: int, region: int, out_px: int, fill_value: float = 0.0
):
    """Cut a region x region window (padded off-image with the fill value the pipeline pads with), resize to
    out_px, keep visible boxes."""
    h, w = image.shape[:2]
    window = np.full((region, region, 3), np.uint8(round(fill_value)), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x, 0), max(y, 0), min(x + region, w), min(y + region, h)
    if sx1 > sx0 and sy1 > sy0:
        window[sy0 - y : sy1 - y, sx0 - x : sx1 - x] = image[sy0:sy1, sx0:sx1]
    if region != out_px:
        tensor = torch.from_numpy(window).permute(2, 0, 1)[None].float()
        tensor = F.interpolate(tensor, size=(out_px, out_px), mode="bilinear", antialias=True, align_corners=False)
        window = tensor[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
    scale = out_px / region
    shifted = (boxes_px.reshape(-1, 4) - np.array([x, y, x, y], dtype=np.float32)) * scale
    clipped = np.clip(shifted, 0, out_px)
    return window, shifted, clipped


def visible_boxes(shifted: np.ndarray, clipped: np.ndarray, min_fraction: float) -> tuple[np.ndarray, bool]:
    """Boxes with at least min_fraction of their area inside the crop, and whether any box touches it."""
    area = np.prod(np.clip(shifted[:, 2:] - shifted[:, :2], 1e-6, None), axis=1)
    visible = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
    keep = visible >= min_fraction * area
    return clipped[keep], bool((visible > 0).any())


class PatchSampler:
    """Draws balanced batches from labelled images; remembers negatives the gate got wrong."""

    def __init__(
        self, images: list[TrainingImage], config: SamplerConfig, seed: int = 0, fill_value: float | None = None
    ):
        """fill_value: what off-image pixels get (None: the pipeline's padding for the default model)."""
        self.fill_value = patch_fill_value(ModelConfig()) if fill_value is None else float(fill_value)
        if not any(len(item.boxes_px) for item in images):
            raise ValueError("training needs at least one image with aircraft")
        self.images, self.config = images, config
        self.rng = np.random.default_rng(seed)
        self.positive_ids = [i for i, item in enumerate(images) if len(item.boxes_px)]
        self.hard_pool: dict[tuple[int, int, int, int, int], float] = {}

    def _pick_image(self) -> int:
        """Synthetic scenes get `synthetic_fraction` of the picks, real ones the rest."""
        synthetic = [i for i in self.positive_ids if self.images[i].synthetic]
        real = [i for i in self.positive_ids if not self.images[i].synthetic]
        pool = synthetic if synthetic and (not real or self.rng.random() < self.config.synthetic_fraction) else real
        return int(self.rng.choice(pool))

    def _region(self) -> int:
        low, high = self.config.scale_jitter  # log-uniform: shrinking and enlarging equally likely
        return int(round(self.config.crop_px * math.exp(self.rng.uniform(math.log(low), math.log(high)))))

    def _positive(self):
        index = self._pick_image()
        item, region = self.images[index], self._region()
        box = item.boxes_px[self.rng.integers(len(item.boxes_px))]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        x = int(cx - self.rng.uniform(0.15, 0.85) * region)
        y = int(cy - self.rng.uniform(0.15, 0.85) * region)
        return self._render(index, x, y, region, int(self.rng.integers(1 << 30)))

    def _negative(self):
        pool = sorted(self.hard_pool.items(), key=lambda kv: -kv[1])[: self.config.hard_negative_pool // 4]
        if pool and self.rng.random() < self.config.hard_negative_fraction:
            key = pool[self.rng.integers(len(pool))][0]
            return self._render(*key), key
        for _ in range(50):
            index = int(self.rng.integers(len(self.images)))
            item, region = self.images[index], self._region()
            h, w = item.image.shape[:2]
            x = int(self.rng.integers(-region // 4, max(w - 3 * region // 4, 1)))
            y = int(self.rng.integers(-region // 4, max(h - 3 * region // 4, 1)))
            if self._touches_aircraft(item.boxes_px, x, y, region):
                continue
            key = (index, x, y, region, int(self.rng.integers(1 << 30)))
            return self._render(*key), key
        return None, None

    @staticmethod
    def _touches_aircraft(boxes_px: np.ndarray, x: int, y: int, region: int) -> bool:
        """Cheap test before rendering: does any box overlap the window?"""
        b = boxes_px.reshape(-1, 4)
        return bool(((b[:, 2] > x) & (b[:, 0] < x + region) & (b[:, 3] > y) & (b[:, 1] < y + region)).any())

    def _render(self, index: int, x: int, y: int, region: int, aug_seed: int):
        """Crop, resize, augment; returns (image, gt boxes, touches_any_aircraft)."""
        item = self.images[index]
        rng = np.random.default_rng(aug_seed)
        window, shifted, clipped = crop_and_resize(
            item.image, item.boxes_px, x, y, region, self.config.crop_px, self.fill_value
        )
        boxes, touches = visible_boxes(shifted, clipped, self.config.min_visible_fraction)
        window, boxes = rotate_flip(window, boxes, rng)
        return photometric(window, rng), boxes, touches

    def report_negative_losses(self, keys: list, losses: list[float]) -> None:
        """Hard negative mining: keep the negatives with the highest gate loss for resampling."""
        for key, loss in zip(keys, losses, strict=True):
            if key is not None:
                self.hard_pool[key] = float(loss)
        if len(self.hard_pool) > self.config.hard_negative_pool:
            kept = sorted(self.hard_pool.items(), key=lambda kv: -kv[1])[: self.config.hard_negative_pool]
            self.hard_pool = dict(kept)

    def next_batch(self) -> Batch:
        """positives_per_batch crops with aircraft, then negatives_per_batch without."""
        samples, keys = [], []
        for _ in range(self.config.positives_per_batch):
            image, boxes, _ = self._positive()
            samples.append((image, boxes))
            keys.append(None)
        for _ in range(self.config.negatives_per_batch):
            sample, key = self._negative()
            if sample is None:
                continue
            samples.append((sample[0], np.zeros((0, 4), np.float32)))
            keys.append(key)
        g = max(1, max(len(b) for _, b in samples))
        gt = np.zeros((len(samples), g, 4), np.float32)
        gt[..., 2:] = 1.0  # padding boxes: a 1 px corner box, never valid
        valid = np.zeros((len(samples), g), bool)
        for i, (_, boxes) in enumerate(samples):
            gt[i, : len(boxes)] = boxes
            valid[i, : len(boxes)] = True
        images = torch.from_numpy(np.stack([s[0] for s in samples])).permute(0, 3, 1, 2).float().contiguous()
        return Batch(images, torch.from_numpy(gt), torch.from_numpy(valid), torch.from_numpy(valid.any(axis=1)), keys)
