"""Window-independent procedural noise: every value is a pure function of (seed, global pixel), so
blocks rendered separately stitch into exactly the image rendered in one piece."""

from __future__ import annotations

import numpy as np

_M1 = np.uint32(0x7FEB352D)
_M2 = np.uint32(0x846CA68B)
_GOLDEN = 0x9E3779B9


def hash_u32(values: np.ndarray) -> np.ndarray:
    """lowbias32 integer hash (Chris Wellons): cheap, well mixed, vectorised, wraps on uint32."""
    x = np.asarray(values, dtype=np.uint32).copy()
    x ^= x >> np.uint32(16)
    x *= _M1
    x ^= x >> np.uint32(15)
    x *= _M2
    x ^= x >> np.uint32(16)
    return x


def salted_key(seed: int, salt: int) -> np.uint32:
    """One 32-bit key per (scene seed, noise layer) so layers are independent."""
    mixed = hash_u32(np.array([(seed * _GOLDEN) & 0xFFFFFFFF], dtype=np.uint32))
    mixed = hash_u32(mixed ^ np.uint32(salt & 0xFFFFFFFF))
    return np.uint32(mixed[0])


def hash_grid(key: np.uint32, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Hash of every (row, col) pair of the two 1-D integer arrays: (len(rows), len(cols)) uint32."""
    row_hash = hash_u32((rows.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32) ^ key)
    col_words = (cols.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)
    return hash_u32(row_hash[:, None] ^ hash_u32(col_words + np.uint32(_GOLDEN))[None, :])


def uniform_grid(key: np.uint32, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) float32 per (row, col) lattice point."""
    return (hash_grid(key, rows, cols) >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def _smooth_weights(coords_px: np.ndarray, spacing_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice cell index and smoothstep weight of each pixel centre along one axis."""
    position = (coords_px.astype(np.float64) + 0.5) / spacing_px
    cell = np.floor(position).astype(np.int64)
    t = position - cell
    return cell, (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def value_noise(
    seed: int, salt: int, spacing_px: float, row0: int, col0: int, height: int, width: int
) -> np.ndarray:
    """Smooth value noise in [0, 1) over a window, lattice every spacing_px pixels (separable)."""
    key = salted_key(seed, salt)
    row_cell, row_t = _smooth_weights(np.arange(row0, row0 + height), spacing_px)
    col_cell, col_t = _smooth_weights(np.arange(col0, col0 + width), spacing_px)
    lattice_rows = np.arange(row_cell[0], row_cell[-1] + 2)
    lattice_cols = np.arange(col_cell[0], col_cell[-1] + 2)
    lattice = uniform_grid(key, lattice_rows, lattice_cols)
    local_cols = col_cell - lattice_cols[0]
    along_x = lattice[:, local_cols] * (1.0 - col_t) + lattice[:, local_cols + 1] * col_t
    local_rows = row_cell - lattice_rows[0]
    return along_x[local_rows] * (1.0 - row_t)[:, None] + along_x[local_rows + 1] * row_t[:, None]


def fractal_noise(
    seed: int,
    salt: int,
    spacings_px: tuple[float, ...],
    gains: tuple[float, ...],
    row0: int,
    col0: int,
    height: int,
    width: int,
) -> np.ndarray:
    """Multi-octave value noise, normalised to about [0, 1): ground texture at several scales."""
    total = np.zeros((height, width), dtype=np.float32)
    for octave, (spacing, gain) in enumerate(zip(spacings_px, gains, strict=True)):
        layer = value_noise(seed, salt * 131 + octave, spacing, row0, col0, height, width)
        total += np.float32(gain) * layer
    return total / np.float32(sum(gains))


def pixel_noise(seed: int, salt: int, row0: int, col0: int, height: int, width: int) -> np.ndarray:
    """Per-pixel zero-mean triangular noise in (-1, 1) (sensor noise), two 16-bit uniforms per hash."""
    words = hash_grid(salted_key(seed, salt), np.arange(row0, row0 + height), np.arange(col0, col0 + width))
    low = (words & np.uint32(0xFFFF)).astype(np.float32)
    high = (words >> np.uint32(16)).astype(np.float32)
    return (low + high) * np.float32(1.0 / 65536.0) - np.float32(1.0)
