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


OVERVIEW_MAX_PX = 1024  # long side of the decimated read a scene's stretch is taken from
LOCAL_CELL_PX = 640  # model px between the nodes of a local stretch: one patch
LOCAL_CONTEXT_PX = 1280  # side of the square whose percentiles set a node: about one Airbus crop and its ring
LOCAL_MIN_RANGE = 0.4  # a node's range is at least this share of the scene's: flat ground is not blown up
LOCAL_MIN_SAMPLES = 256  # fewer valid samples in a node's square (nodata margin): the scene-wide stretch
MAP_STEP_PX = 8  # the low / gain maps are evaluated once per 8 x 8 px cell: smooth, so no visible steps


@dataclass(frozen=True, eq=False)
class LocalStretch:
    """Percentile stretch whose low / high vary smoothly over the scene (bilinear between grid nodes).

    A scene of tens of km then looks, around each airport, like the separately rendered crops the network
    learned from, instead of being clipped by a brightness range set by the whole scene (clouds, roofs).
    The mapping depends on the pixel's position only, never on the tiling, so every patch agrees.
    """

    low: np.ndarray  # (bands, rows, cols) float32 at node centres
    high: np.ndarray  # (bands, rows, cols) float32
    cell_px: float  # model px between nodes; node (i, j) sits at ((j + 0.5) cell, (i + 0.5) cell)

    def apply_at(
        self, raw: np.ndarray, origin_model_px: tuple[float, float] = (0.0, 0.0), step_model_px: float = 1.0
    ) -> np.ndarray:
        """Map (bands, H, W) raw values whose pixel (0, 0) starts at origin (x, y) in model px, each pixel
        step_model_px wide, to uint8."""
        bands, height, width = raw.shape
        rows, row_index = _coarse_weights(origin_model_px[1], height, step_model_px, self.low.shape[1], self.cell_px)
        cols, col_index = _coarse_weights(origin_model_px[0], width, step_model_px, self.low.shape[2], self.cell_px)
        out = np.empty(raw.shape, dtype=np.uint8)
        values = np.empty((height, width), dtype=np.float32)
        for band in range(bands):
            low = rows @ self.low[band] @ cols.T
            gain = 255.0 / np.maximum(rows @ self.high[band] @ cols.T - low, 1e-6)
            np.subtract(raw[band], low[np.ix_(row_index, col_index)], out=values, dtype=np.float32)
            np.multiply(values, gain[np.ix_(row_index, col_index)], out=values)
            np.clip(values, 0.0, 255.0, out=values)
            np.rint(values, out=values)
            out[band] = values
        return out

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """A raw array whose origin is the scene's (0, 0) at the model's gsd."""
        return self.apply_at(raw)


def local_percentile_stretch(
    sample: np.ndarray,
    valid: np.ndarray | None,
    model_px_per_sample: tuple[float, float],
    size_model_px: tuple[int, int],
    low_pct: float = 0.5,
    high_pct: float = 99.5,
) -> LocalStretch:
    """Node-wise percentiles of a decimated sample (bands, h, w) over LOCAL_CONTEXT_PX squares."""
    scene = percentile_stretch(sample, valid, low_pct, high_pct)
    sx, sy = model_px_per_sample
    width, height = size_model_px
    cols, rows = max(1, -(-width // LOCAL_CELL_PX)), max(1, -(-height // LOCAL_CELL_PX))
    low = np.empty((sample.shape[0], rows, cols), np.float32)
    high = np.empty_like(low)
    half = LOCAL_CONTEXT_PX / 2
    for i in range(rows):
        y = (i + 0.5) * LOCAL_CELL_PX
        r0, r1 = max(0, int((y - half) / sy)), max(1, int(np.ceil((y + half) / sy)))
        for j in range(cols):
            x = (j + 0.5) * LOCAL_CELL_PX
            c0, c1 = max(0, int((x - half) / sx)), max(1, int(np.ceil((x + half) / sx)))
            keep = None if valid is None else valid[r0:r1, c0:c1]
            for band in range(sample.shape[0]):
                values = sample[band, r0:r1, c0:c1]
                values = values[keep] if keep is not None else values.ravel()
                values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
                span = LOCAL_MIN_RANGE * (scene.high[band] - scene.low[band])
                if values.size < LOCAL_MIN_SAMPLES:
                    low[band, i, j], high[band, i, j] = scene.low[band], scene.high[band]
                    continue
                lo, hi = (float(v) for v in np.percentile(values, [low_pct, high_pct]))
                if hi - lo < span:
                    middle = (lo + hi) / 2
                    lo, hi = middle - span / 2, middle + span / 2
                low[band, i, j], high[band, i, j] = lo, hi
    return LocalStretch(low, high, float(LOCAL_CELL_PX))


def _interpolation_matrix(coords_model_px: np.ndarray, nodes: int, cell_px: float) -> np.ndarray:
    """(len(coords), nodes) bilinear weights; constant beyond the outer node centres."""
    weights = np.zeros((len(coords_model_px), nodes), np.float32)
    if nodes == 1:
        weights[:, 0] = 1.0
        return weights
    t = np.clip(coords_model_px / cell_px - 0.5, 0.0, nodes - 1.0)
    left = np.minimum(np.floor(t).astype(int), nodes - 2)
    frac = (t - left).astype(np.float32)
    index = np.arange(len(t))
    weights[index, left] = 1.0 - frac
    weights[index, left + 1] = frac
    return weights


def _coarse_weights(
    origin_px: float, count: int, step_px: float, nodes: int, cell_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weights at the centres of the MAP_STEP_PX cells (aligned to the scene, not the window) that `count`
    pixels from origin fall in, and each pixel's cell: every window sees the same value at the same place."""
    cells = np.floor((origin_px + (np.arange(count) + 0.5) * step_px) / MAP_STEP_PX).astype(np.int64)
    first = int(cells[0])
    centres = (np.arange(int(cells[-1]) - first + 1) + first + 0.5) * MAP_STEP_PX
    return _interpolation_matrix(centres, nodes, cell_px), cells - first


def scene_stretch(
    mode: str,
    dtype: str,
    sample: np.ndarray,
    valid: np.ndarray | None,
    model_px_per_sample: tuple[float, float] = (1.0, 1.0),
    size_model_px: tuple[int, int] | None = None,
) -> Stretch | LocalStretch:
    """The one choice of 8-bit mapping, for detection, evaluation, calibration and training alike.

    sample: a decimated (bands, h, w) read of the whole scene (any values for uint8 / none / divide4).
    """
    bands = sample.shape[0]
    if dtype == "uint8" or mode == "none":
        return identity_stretch(bands)
    if mode == "divide4":
        return divide4_stretch(bands)
    if mode == "local":
        if size_model_px is None:
            size_model_px = (
                int(round(sample.shape[2] * model_px_per_sample[0])),
                int(round(sample.shape[1] * model_px_per_sample[1])),
            )
        return local_percentile_stretch(sample, valid, model_px_per_sample, size_model_px)
    return percentile_stretch(sample, valid)


def decimated_sample(
    raw: np.ndarray, valid: np.ndarray | None, max_px: int
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Nearest-neighbour decimation of an in-memory (bands, H, W) scene, as the raster reader's overview
    read does; returns the sample, its mask and the factor (scene px per sample px)."""
    height, width = raw.shape[1:]
    factor = max(1.0, max(height, width) / max_px)
    out_h, out_w = max(1, int(round(height / factor))), max(1, int(round(width / factor)))
    rows = np.minimum(((np.arange(out_h) + 0.5) * (height / out_h)).astype(int), height - 1)  # GDAL: centres
    cols = np.minimum(((np.arange(out_w) + 0.5) * (width / out_w)).astype(int), width - 1)
    sample = raw[:, rows][:, :, cols]
    mask = None if valid is None else valid[rows][:, cols]
    return sample, mask, factor


def with_high_scaled(mapping: Stretch | LocalStretch, factor: float) -> Stretch | LocalStretch:
    """The same mapping with its range (high - low) times factor: how a bigger scene moves the high end."""
    if isinstance(mapping, LocalStretch):
        return LocalStretch(mapping.low, mapping.low + (mapping.high - mapping.low) * factor, mapping.cell_px)
    high = tuple(lo + (hi - lo) * factor for lo, hi in zip(mapping.low, mapping.high, strict=True))
    return Stretch(mapping.low, high)


def scene_to_u8(raw: np.ndarray, valid: np.ndarray | None, mode: str, high_factor: float = 1.0) -> np.ndarray:
    """A whole in-memory scene (bands, H, W) at the model's gsd to uint8 exactly as the raster reader maps a
    raster of it: the same decimated sample, the same choice of stretch (training, calibration, gate tuning)."""
    sample, mask, factor = decimated_sample(raw, valid, OVERVIEW_MAX_PX)
    mapping = scene_stretch(mode, str(raw.dtype), sample, mask, (factor, factor), (raw.shape[2], raw.shape[1]))
    mapping = with_high_scaled(mapping, high_factor) if high_factor != 1.0 else mapping
    return mapping.apply_at(raw) if isinstance(mapping, LocalStretch) else mapping.apply(raw)
