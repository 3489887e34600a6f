"""The cascade's first look: every patch of the grid scored from a decimated view of the scene (the same
reader, resampling and stretch as the full reads), so only the patches it passes run the trunk.

One decimated strip per grid row is read ahead while the previous row is scored; the view of one patch
is (tile / step)^2 pixels, 1 / step^2 of what the trunk reads.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from engine.pipeline.read_ahead import ReadAhead
from engine.pipeline.scene import Scene
from engine.runtime.cascade_runtime import CascadeScorer

READ_AHEAD_ROWS = 2


@dataclass(frozen=True)
class FirstLook:
    """The cascade's answer for a tile grid."""

    scores: np.ndarray  # (T,) NaN: never looked at (prescreened as nodata)
    passed: np.ndarray  # (T,) bool: run the trunk
    threshold: float
    seconds: dict[str, float]  # cascade_read (reader thread), cascade_read_wait, cascade_network


def cascade_mismatch(scorer: CascadeScorer, tile_px: int, model_gsd_m: float) -> str | None:
    """Why the cascade cannot judge this run's patches (calibrated for another patch size or gsd), or None."""
    config = scorer.config
    if int(config.patch_px) == int(tile_px) and abs(float(config.gsd_m) - float(model_gsd_m)) < 1e-6:
        return None
    return (
        f"cascade off: calibrated for {config.patch_px} px patches at {config.gsd_m:g} m, this run has {tile_px} px "
        f"at {model_gsd_m:g} m"
    )


def decimated_view(
    scene: Scene, origin_model_px: tuple[int, int], size_xy_px: tuple[int, int], step: int
) -> np.ndarray:
    """(2, h, w) uint8 of a region, each pixel step x step model px: the mean and the brightest of its 2 x 2
    cells of a read twice as fine (the maximum keeps a 6 px aircraft's contrast that the mean halves)."""
    fine = max(1, step // 2)
    width, height = size_xy_px
    values, _ = scene.read_region_u8(origin_model_px, (2 * width, 2 * height), fine)
    grey = values[0] if values.shape[0] == 1 else np.rint(values.mean(axis=0)).astype(np.uint8)
    blocks = grey.reshape(height, 2, width, 2)
    mean = np.rint(blocks.mean(axis=(1, 3), dtype=np.float32)).astype(np.uint8)
    return np.stack([mean, blocks.max(axis=(1, 3))])


def decimated_patches(scene: Scene, origins_model_px: np.ndarray, tile_px: int, step: int, rows: list) -> tuple:
    """(indices, (n, 2, side, side) uint8) of one grid row: one decimated strip read, cut per patch."""
    side = math.ceil(tile_px / step)
    index = np.asarray(rows, dtype=np.int64)
    xs, y = origins_model_px[index, 0], int(origins_model_px[index[0], 1])
    x0 = int(xs.min())
    width = math.ceil((int(xs.max()) + tile_px - x0) / step)
    strip = decimated_view(scene, (x0, y), (width, side), step)
    out = np.full((len(index), strip.shape[0], side, side), round(scene.fill_value), dtype=np.uint8)
    for k, x in enumerate(xs.tolist()):
        col = (x - x0) // step
        cut = strip[:, :, col : col + side]
        out[k, :, :, : cut.shape[2]] = cut
    return index, out


def first_look(
    scene: Scene,
    origins_model_px: np.ndarray,
    tile_px: int,
    scorer: CascadeScorer,
    prescreened: np.ndarray | None = None,
    threshold: float | None = None,
) -> FirstLook:
    """Score every patch not prescreened; passed where score >= threshold (None: the file's calibrated one)."""
    origins = np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2)
    skip = np.zeros(len(origins), bool) if prescreened is None else np.asarray(prescreened, bool)
    threshold = float(scorer.config.threshold if threshold is None else threshold)
    step = int(scorer.config.step_model_px)
    rows: dict[int, list[int]] = {}
    for index in np.flatnonzero(~skip).tolist():
        rows.setdefault(int(origins[index, 1]), []).append(index)
    scores = np.full(len(origins), np.nan)
    network = 0.0
    read = lambda row: decimated_patches(scene, origins, tile_px, step, row)  # noqa: E731
    with ReadAhead(read, list(rows.values()), READ_AHEAD_ROWS) as reader:
        for _, (index, patches) in reader:
            started = time.perf_counter()
            scores[index] = scorer(patches)
            network += time.perf_counter() - started
    seconds = {
        "cascade_read": reader.read_seconds, "cascade_read_wait": reader.wait_seconds, "cascade_network": network,
    }
    passed = ~skip & (scores >= threshold)
    return FirstLook(scores, passed, threshold, seconds)
