"""Tile grid: the paper's 640 px / 20 % stride, edges flush, full coverage, small scenes padded."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.tiling import scene_size_model_px, tile_grid, tile_origins_1d, tile_stride_px


def test_paper_stride_is_512_px():
    assert tile_stride_px(640, 0.2) == 512


def test_gf1_grid_ends_flush_with_both_edges_and_overlaps_at_least_128_px():
    origins = tile_grid(18192, 18000, 640, 0.2)
    xs, ys = np.unique(origins[:, 0]), np.unique(origins[:, 1])
    assert xs[0] == 0 and xs[-1] == 18192 - 640
    assert ys[0] == 0 and ys[-1] == 18000 - 640
    assert np.all(np.diff(xs) <= 512) and np.all(np.diff(ys) <= 512)
    assert len(origins) == len(xs) * len(ys) == 36 * 35  # 1260 patches for a GF-1 scene


@pytest.mark.parametrize("length", [1, 63, 64, 65, 100, 112, 113, 500, 641])
def test_every_pixel_is_covered_and_no_tile_hangs_past_a_large_enough_scene(length):
    origins = tile_origins_1d(0, length, 64, tile_stride_px(64, 0.25))
    covered = np.zeros(max(length, 64), dtype=bool)
    for origin in origins:
        covered[origin : origin + 64] = True
    assert covered[:length].all()
    assert origins == sorted(set(origins))
    if length >= 64:
        assert origins[-1] + 64 == length


def test_scene_smaller_than_a_patch_is_one_tile_at_the_origin():
    origins = tile_grid(30, 20, 64, 0.2)
    assert origins.tolist() == [[0, 0]]


def test_exact_fit_and_one_pixel_more():
    assert tile_grid(64, 64, 64, 0.2).tolist() == [[0, 0]]
    assert tile_grid(65, 64, 64, 0.2).tolist() == [[0, 0], [1, 0]]


def test_region_tiles_cover_the_region_and_stay_inside_the_scene():
    origins = tile_grid(1000, 1000, 64, 0.25, region_px=(970, 10, 1000, 100))
    assert set(origins[:, 0].tolist()) == {1000 - 64}
    assert origins[:, 1].min() <= 10 and (origins[:, 1] + 64).max() >= 100
    assert tile_grid(1000, 1000, 64, 0.25, region_px=(2000, 0, 3000, 10)).shape == (0, 2)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        tile_stride_px(64, 1.0)
    with pytest.raises(ValueError):
        tile_grid(0, 10, 64, 0.2)


def test_scene_size_in_model_px_follows_the_resampling_scale():
    assert scene_size_model_px(1000, 500, 1.0, 1.0) == (1000, 500)
    assert scene_size_model_px(1001, 500, 2.0, 2.0) == (501, 250)
    assert scene_size_model_px(100, 100, 0.5, 0.25) == (200, 400)
