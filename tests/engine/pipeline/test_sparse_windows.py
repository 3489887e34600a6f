"""Sparse window planning: every patch the cascade passed is in exactly one window, windows hold only rows and
columns of the full plan's windows, lone patches run alone; the stream records exactly the passed patches."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.patch_stream import StreamPlan, stream_patches
from engine.pipeline.scene import ImageScene
from engine.pipeline.sparse_windows import cover_rectangles, sparse_windows
from engine.pipeline.tiling import tile_grid, tile_stride_px
from engine.pipeline.window_plan import iter_windows

from .conftest import FakeBlobDetector, FakeWindowDetector


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("share", [0.05, 0.3, 0.8])
def test_every_passed_patch_in_exactly_one_window(seed, share):
    origins = tile_grid(1000, 700, 64, 0.25)
    selected = np.random.default_rng(seed).random(len(origins)) < share
    full = list(iter_windows(origins, 3, 16))
    items = list(sparse_windows(iter(full), selected, tile_stride_px(64, 0.25), 64))
    assert sum(size for size, _ in items) == len(origins)  # progress accounts for every patch once
    covered = np.concatenate([plan.patch_index.ravel() for _, plan in items if plan is not None] or [[]]).astype(int)
    hit = covered[selected[covered]]
    assert sorted(hit.tolist()) == np.flatnonzero(selected).tolist()  # each passed patch once, none twice
    assert len(covered) == len(set(covered.tolist()))  # windows never overlap
    windows_of = {int(i): k for k, plan in enumerate(full) for i in plan.patch_index.ravel()}
    for _, plan in items:
        if plan is None:
            continue
        assert len({windows_of[int(i)] for i in plan.patch_index.ravel()}) == 1  # inside one full window
        assert selected[plan.patch_index].any()
        for r, y in enumerate(plan.row_offsets_px):
            for c, x in enumerate(plan.col_offsets_px):
                assert tuple(origins[plan.patch_index[r, c]]) == (plan.x0_model_px + x, plan.y0_model_px + y)
                assert x % 16 == 0 and y % 16 == 0


def test_lone_corners_run_alone_and_a_full_block_stays_one_window():
    corners = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1]], bool)
    assert sorted(cover_rectangles(corners, 512, 640)) == [(0, 1, 0, 1), (2, 3, 2, 3)]
    assert cover_rectangles(np.ones((3, 3), bool), 512, 640) == [(0, 3, 0, 3)]
    row = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]], bool)
    assert cover_rectangles(row, 512, 640) == [(1, 2, 0, 3)]
    assert cover_rectangles(np.zeros((3, 3), bool), 512, 640) == []


@pytest.mark.parametrize("per_window", [1, 3])
def test_stream_runs_exactly_the_selected_patches(per_window):
    rng = np.random.default_rng(5)
    image = rng.integers(80, 120, (400, 520)).astype(np.uint8)
    for y, x in ((30, 30), (200, 300), (340, 460), (100, 170)):
        image[y : y + 6, x : x + 9] = 250
    scene = ImageScene(image, 110.0)
    origins = tile_grid(520, 400, 64, 0.25)
    selected = rng.random(len(origins)) < 0.3
    detector = FakeWindowDetector(overlap=0.25) if per_window > 1 else FakeBlobDetector(overlap=0.25)
    plan = StreamPlan(64, 0.5, per_window, 4, 0.25)
    result = stream_patches(scene, detector, origins, plan, selected=selected)
    np.testing.assert_array_equal(np.isfinite(result.gate_scores), selected)
    assert result.counts.cascade_rejected == int((~selected).sum()) and result.counts.skipped == 0
    full = stream_patches(scene, detector, origins, plan)
    np.testing.assert_allclose(result.gate_scores[selected], full.gate_scores[selected])
    if per_window > 1:  # the network saw the selected patches and, inside their rectangles, few others
        computed = sum(len(rows) * len(cols) for rows, cols in detector.windows[: result.counts.windows])
        assert int(selected.sum()) <= computed < len(origins)
