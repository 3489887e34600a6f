"""The window path: planning covers the tile grid once; with a local (numpy) detector it gives exactly
the per-patch path's detections; with a random-weight R2CNN the two paths agree within tolerance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.tiling import tile_grid
from engine.pipeline.window_plan import group_axis, plan_windows
from engine.runtime import load_detector

from .conftest import FakeBlobDetector, FakeWindowDetector


def _blob_raster(tif, path, nodata_rows: int = 0):
    rng = np.random.default_rng(2)
    data = rng.integers(80, 120, (1, 300, 420)).astype(np.uint8)
    for y, x in ((200, 30), (140, 200), (100, 46), (250, 380), (95, 140)):  # some on patch overlaps
        data[0, y : y + 6, x : x + 9] = 250
    data[0, :nodata_rows] = 0
    return tif(path, data, nodata=0)


def test_group_axis_keeps_alignment_and_size():
    assert group_axis([0, 48, 96, 144, 192], 2, 16) == [[0, 48], [96, 144], [192]]
    assert group_axis([0, 48, 96, 104], 3, 16) == [[0, 48, 96], [104]]  # 104 - 0 is not a multiple of 16
    assert group_axis([0, 48, 96, 112], 4, 16) == [[0, 48, 96, 112]]  # a flush last patch, still aligned


def test_plan_covers_every_patch_once():
    origins = tile_grid(420, 300, 64, 0.25)
    plans = plan_windows(origins, 3, 16)
    covered = np.concatenate([p.patch_index.ravel() for p in plans])
    assert sorted(covered.tolist()) == list(range(len(origins)))
    for plan in plans:
        for r, y in enumerate(plan.row_offsets_px):
            for c, x in enumerate(plan.col_offsets_px):
                assert tuple(origins[plan.patch_index[r, c]]) == (plan.x0_model_px + x, plan.y0_model_px + y)
                assert x % 16 == 0 and y % 16 == 0
    with pytest.raises(ValueError, match="full grid"):
        plan_windows(origins[:-1], 3, 16)


@pytest.mark.parametrize("per_window", [2, 3, 8])
def test_window_path_equals_patch_path_with_a_local_detector(tmp_path, tif, per_window):
    path = _blob_raster(tif, tmp_path / "blobs.tif", nodata_rows=70)  # the top patch row is nodata
    config = DetectConfig(window_patches=per_window, prescreen=False)
    windowed_detector = FakeWindowDetector(overlap=0.25)
    windowed = detect_raster(path, config, detector=windowed_detector)
    plain = detect_raster(path, dataclasses.replace(config, window_patches=1), detector=FakeBlobDetector(overlap=0.25))
    assert windowed.stats.windows == len(windowed_detector.windows) > 0 and plain.stats.windows == 0
    assert windowed.stats.window_patches == per_window and plain.stats.window_patches == 0
    for field in ("patches_total", "patches_skipped_nodata", "patches_passed_gate", "detections"):
        assert getattr(windowed.stats, field) == getattr(plain.stats, field), field
    assert windowed.stats.patches_skipped_nodata > 0 and windowed.stats.detections == 5
    order_a, order_b = np.lexsort(windowed.boxes_raster_px.T), np.lexsort(plain.boxes_raster_px.T)
    np.testing.assert_array_equal(windowed.boxes_raster_px[order_a], plain.boxes_raster_px[order_b])
    np.testing.assert_array_equal(windowed.patch_scores[order_a], plain.patch_scores[order_b])
    # The nodata patch row is cut off before the network: only patches holding data are computed.
    computed = sum(len(rows) * len(cols) for rows, cols in windowed_detector.windows)
    assert computed == windowed.stats.patches_total - windowed.stats.patches_skipped_nodata


def test_random_weight_model_agrees_across_paths(tmp_path, tiny_models):
    """Per patch, gate and best box scores of the window graph stay within 0.01 of the per-patch graph
    (only the trunk's view across patch borders differs); whole-scene counts are the same."""
    from engine.synthetic.scene_generator import write_scene_geotiff

    scene = write_scene_geotiff(tmp_path / "scene.tif", 300, 420, seed=3, n_airports=1).path
    patch = load_detector(tiny_models.patch_onnx, device="cpu", min_score=0.0, threads=1)
    window = load_detector(tiny_models.window_onnx, device="cpu", min_score=0.0, threads=1)
    with RasterScene(scene, 2.0, fill_value=110.0) as raster:
        origins = tile_grid(*raster.size_model_px, 128, 0.25)
        for plan in plan_windows(origins, 3, 16):
            values, _ = raster.read_region_u8((plan.x0_model_px, plan.y0_model_px), plan.size_xy_px(128))
            grid = np.repeat(values, 3, axis=0)
            ours = window.run_windows(grid[None], plan.row_offsets_px, plan.col_offsets_px, -1.0)
            cuts = [grid[:, r : r + 128, c : c + 128] for r in plan.row_offsets_px for c in plan.col_offsets_px]
            theirs = patch(np.stack(cuts), -1.0)
            np.testing.assert_allclose(ours.gate_scores, theirs.gate_scores, atol=0.01)
            for a, b in zip(ours.detections, theirs.detections, strict=True):
                assert abs(float(a.scores.max()) - float(b.scores.max())) < 0.01
    config = DetectConfig(device="cpu", window_patches=4)
    a = detect_raster(scene, config, detector=patch)
    b = detect_raster(scene, config, detector=window)
    assert a.stats.patches_total == b.stats.patches_total == 15  # 5 x 3, flush last column and row
    assert a.stats.patches_passed_gate == b.stats.patches_passed_gate and b.stats.windows == 4
    assert abs(len(a.scores) - len(b.scores)) <= 0.1 * len(a.scores)
