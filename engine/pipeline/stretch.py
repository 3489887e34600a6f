"""Radiometry: bring any raster dtype to the 8-bit range the network was trained on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stretch:
    """One linear mapping per band from raw values to 0..255, shared by every patch of a scene."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Map (bands, H, W) raw values to uint8 with this scene-wide stretch."""
        low = np.asarray(self.low, dtype=np.float32).reshape(-1, 1, 1)
        high = np.asarray(self.high, dtype=np.float32).reshape(-1, 1, 1)
        scaled = (raw.astype(np.float32) - low) * (255.0 / np.maximum(high - low, 1e-6))
        return np.clip(scaled, 0.0, 255.0).round().astype(np.uint8)


def identity_stretch(bands: int) -> Stretch:
    """uint8 data is used as is."""
    return Stretch(low=(0.0,) * bands, high=(255.0,) * bands)


def divide4_stretch(bands: int) -> Stretch:
    """The paper's fixed mapping for 10-bit data: value / 4."""
    return Stretch(low=(0.0,) * bands, high=(1020.0,) * bands)


def percentile_stretch(
    sample: np.ndarray, valid: np.ndarray | None = None, low_pct: float = 0.5, high_pct: float = 99.5
) -> Stretch:
    """Per-band percentiles of a decimated sample (bands, h, w), ignoring nodata, so all patches agree."""
    lows, highs = [], []
    for band_index in range(sample.shape[0]):
        band = sample[band_index]
        values = band[valid] if valid is not None else band.ravel()
        values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if values.size == 0:
            lows.append(0.0)
            highs.append(1.0)
            continue
        low, high = np.percentile(values, [low_pct, high_pct])
        lows.append(float(low))
        highs.append(float(high) if high > low else float(low) + 1.0)
    return Stretch(low=tuple(lows), high=tuple(highs))


def lookup_table(stretch: Stretch, dtype: str) -> np.ndarray | None:
    """(bands, 2**bits) uint8 table for 8/16-bit integer data, indexed by the values' unsigned bit pattern.

    One gather per pixel instead of float arithmetic: the same result as Stretch.apply, several times faster.
    None for 32-bit and float data (apply() handles those).
    """
    kind = np.dtype(dtype)
    if kind.kind not in "ui" or kind.itemsize > 2:
        return None
    unsigned = np.dtype(f"u{kind.itemsize}")
    values = np.arange(2 ** (8 * kind.itemsize), dtype=np.int64).astype(unsigned).view(kind)
    per_band = [Stretch((low,), (high,)) for low, high in zip(stretch.low, stretch.high, strict=True)]
    return np.stack([band.apply(values[None, None, :])[0, 0] for band in per_band])


def apply_lookup_table(table: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Map (bands, H, W) raw 8/16-bit integers through a lookup_table()."""
    unsigned = raw.view(np.dtype(f"u{raw.dtype.itemsize}"))
    out = np.empty(raw.shape, dtype=np.uint8)
    for band in range(raw.shape[0]):
        np.take(table[band], unsigned[band], out=out[band])
    return out
