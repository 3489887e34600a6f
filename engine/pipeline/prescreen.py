"""Patches that are surely nodata, decided from one decimated mask before any patch is read."""

from __future__ import annotations

import math

import numpy as np

from engine.pipeline.scene import Scene

MARGIN_SAMPLES = 1  # mask samples added around each patch: a sliver between samples still counts as data


def nodata_patches(scene: Scene, origins_model_px: np.ndarray, tile_px: int) -> np.ndarray:
    """(T,) bool: True where the decimated valid mask shows no data under the patch or next to it.

    The mask is the one the scene-wide stretch already read (nearest samples every ~18 px on a GF-1
    scene); the one-sample margin keeps any patch that touches a sampled valid pixel.
    """
    empty = np.zeros(len(origins_model_px), dtype=bool)
    overview = scene.nodata_overview()
    if overview is None or len(origins_model_px) == 0:
        return empty
    mask, (scale_x, scale_y) = overview
    height, width = mask.shape
    for index, (x0, y0) in enumerate(np.asarray(origins_model_px, dtype=np.int64)):
        col0 = max(0, int(math.floor(x0 / scale_x)) - MARGIN_SAMPLES)
        row0 = max(0, int(math.floor(y0 / scale_y)) - MARGIN_SAMPLES)
        col1 = min(width, int(math.ceil((x0 + tile_px) / scale_x)) + MARGIN_SAMPLES)
        row1 = min(height, int(math.ceil((y0 + tile_px) / scale_y)) + MARGIN_SAMPLES)
        empty[index] = col1 > col0 and row1 > row0 and not mask[row0:row1, col0:col1].any()
    return empty
