"""Training augmentation: geometry (90-degree turns, flips, scale) and radiometry (GF-1-like variety)."""

from __future__ import annotations

import numpy as np


def rotate_flip(image: np.ndarray, boxes_px: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random multiple of 90 degrees and a random horizontal flip of (H, W, C) and its boxes."""
    for _ in range(int(rng.integers(4))):
        old_width = image.shape[1]
        image = np.rot90(image)  # counter-clockwise: (x, y) -> (y, old_width - x)
        x0, y0, x1, y1 = boxes_px.reshape(-1, 4).T
        boxes_px = np.stack((y0, old_width - x1, y1, old_width - x0), axis=1)
    if rng.random() < 0.5:
        width = image.shape[1]
        image = image[:, ::-1]
        boxes_px = boxes_px.reshape(-1, 4)
        boxes_px = np.stack((width - boxes_px[:, 2], boxes_px[:, 1], width - boxes_px[:, 0], boxes_px[:, 3]), axis=1)
    return np.ascontiguousarray(image), boxes_px.astype(np.float32).reshape(-1, 4)


def histogram_stretch(image: np.ndarray, clip_fraction: float) -> np.ndarray:
    """Clip `clip_fraction` of each band's histogram at both ends and rescale: the paper's stretch jitter."""
    if clip_fraction <= 0:
        return image
    out = np.empty_like(image)
    for band in range(image.shape[2]):
        low, high = np.percentile(image[..., band], [clip_fraction * 100, 100 - clip_fraction * 100])
        scale = 255.0 / max(high - low, 1.0)
        out[..., band] = np.clip((image[..., band].astype(np.float32) - low) * scale, 0, 255).astype(np.uint8)
    return out


def photometric(
    image: np.ndarray, rng: np.random.Generator, grey_probability: float = 0.3, gamma_range: tuple = (0.7, 1.4)
) -> np.ndarray:
    """Brightness, contrast, gamma and histogram-stretch jitter, and sometimes one grey band replicated.

    Gamma: a sensor's raw values reach 8 bits through a linear stretch, while the crops we learn from were
    rendered for display; the jitter spans both looks.
    """
    image = histogram_stretch(image, float(rng.uniform(0.0, 0.02)))
    values = image.astype(np.float32)
    if rng.random() < 0.5:
        values = 255.0 * (values / 255.0) ** float(np.exp(rng.uniform(*np.log(gamma_range))))
    mean = values.mean()
    values = (values - mean) * rng.uniform(0.75, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < grey_probability:
        values = np.repeat(values.mean(axis=2, keepdims=True), 3, axis=2)
    return np.clip(values, 0, 255).astype(np.uint8)
