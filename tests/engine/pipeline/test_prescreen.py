"""The nodata pre-screen: patches under nodata are skipped without a read, and nothing else changes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.tiling import tile_grid

from .conftest import FakeBlobDetector, FakeWindowDetector


def _raster(tif, path, nodata: int | None = 0):
    rng = np.random.default_rng(5)
    data = rng.integers(80, 120, (1, 256, 320)).astype(np.uint8)
    data[0, :, :130] = 0  # a wide nodata margin on the left
    data[0, 200, 129] = 100  # ... but not quite: a single valid pixel at its edge
    for y, x in ((30, 200), (180, 260)):
        data[0, y : y + 6, x : x + 9] = 250
    return tif(path, data, nodata=nodata) if nodata is not None else tif(path, data)


def test_patches_under_nodata_are_found_from_the_overview(tmp_path, tif):
    with RasterScene(_raster(tif, tmp_path / "r.tif"), 2.0) as scene:
        origins = tile_grid(*scene.size_model_px, 64, 0.25)
        empty = nodata_patches(scene, origins, 64)
        truly_empty = np.array([scene.read_patch(tuple(o), 64).valid_fraction == 0 for o in origins])
    assert empty.any()
    assert not np.any(empty & ~truly_empty)  # never a patch holding data
    assert np.all(origins[empty][:, 0] + 64 <= 130)


def test_no_nodata_no_prescreen(tmp_path, tif):
    with RasterScene(_raster(tif, tmp_path / "r.tif", nodata=None), 2.0) as scene:
        origins = tile_grid(*scene.size_model_px, 64, 0.25)
        assert not nodata_patches(scene, origins, 64).any()


@pytest.mark.parametrize("windowed", [False, True])
def test_prescreen_changes_nothing_but_the_reads(tmp_path, tif, windowed):
    path = _raster(tif, tmp_path / "r.tif")
    detector = FakeWindowDetector() if windowed else FakeBlobDetector()
    on = detect_raster(path, DetectConfig(prescreen=True), detector=detector)
    off = detect_raster(path, DetectConfig(prescreen=False), detector=detector)
    assert on.stats.patches_prescreened > 0 and off.stats.patches_prescreened == 0
    assert (on.stats.windows > 0) == windowed
    assert on.stats.patches_skipped_nodata == off.stats.patches_skipped_nodata
    assert on.stats.patches_passed_gate == off.stats.patches_passed_gate
    np.testing.assert_array_equal(np.sort(on.boxes_raster_px, axis=0), np.sort(off.boxes_raster_px, axis=0))
    assert len(on.scores) == 2


def test_prescreened_rows_and_columns_are_trimmed_before_the_read():
    from engine.pipeline.window_plan import plan_windows, trim_plan

    origins = tile_grid(256, 256, 64, 0.25)  # 5 x 5 origins 0, 48, 96, 144, 192
    plan = plan_windows(origins, 3, 16)[0]
    prescreened = np.zeros(len(origins), bool)
    prescreened[plan.patch_index[:, 0]] = True  # the window's first column is nodata
    trimmed = trim_plan(plan, prescreened)
    assert (trimmed.x0_model_px, trimmed.y0_model_px) == (48, 0)
    assert trimmed.col_offsets_px == (0, 48) and trimmed.row_offsets_px == plan.row_offsets_px
    assert trimmed.patch_index.tolist() == plan.patch_index[:, 1:].tolist()
    prescreened[plan.patch_index.ravel()] = True
    assert trim_plan(plan, prescreened) is None
