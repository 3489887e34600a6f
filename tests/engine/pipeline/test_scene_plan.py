"""The scene planner (issue 15, item 4): counts from the header agree with the grid, absurd inputs are
refused in one line, and no header, however hostile, makes it build a grid or exceed the memory bound."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import RasterInputError
from engine.pipeline import scene_plan
from engine.pipeline.run_plan import region_model_px
from engine.pipeline.scene_plan import memory_bound_bytes, plan_scene
from engine.pipeline.tiling import scene_size_model_px, tile_count_1d, tile_grid, tile_origins_1d, tile_stride_px


@pytest.mark.parametrize("length", [1, 63, 64, 65, 100, 112, 113, 500, 641, 10_000])
def test_tile_count_is_the_length_of_the_origins(length):
    stride = tile_stride_px(64, 0.25)
    assert tile_count_1d(float(length), 64, stride) == len(tile_origins_1d(0, length, 64, stride))


def test_planned_patches_are_what_tile_grid_builds_regions_included():
    rng = np.random.default_rng(15)
    for _ in range(200):
        width, height = (int(v) for v in rng.integers(1, 3000, 2))
        gsd = float(rng.choice([0.3, 0.5, 1.0, 2.0, 3.7, 8.0]))
        overlap = float(rng.choice([0.0, 0.2, 0.25, 0.5, 0.75]))
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        region = (x0, y0, int(rng.integers(x0 + 1, width + 1)), int(rng.integers(y0 + 1, height + 1)))
        plan = plan_scene("r.tif", (width, height), (gsd, gsd), 2.0, 64, overlap, region_raster_px=region)
        scale = 2.0 / gsd
        size = scene_size_model_px(width, height, scale, scale)
        grid = tile_grid(*size, 64, overlap, region_model_px(region, (scale, scale)))
        assert plan.patches == len(grid), (width, height, gsd, overlap, region)


def test_a_raster_far_coarser_than_aircraft_is_refused_naming_both_resolutions_unless_forced():
    with pytest.raises(RasterInputError) as refused:
        plan_scene("s30.tif", (2048, 2048), (30.0, 30.0), 2.0, 640, 0.2)
    message = str(refused.value)
    assert "30 m" in message and "2 m" in message and "--force" in message and "\n" not in message
    forced = plan_scene("s30.tif", (2048, 2048), (30.0, 30.0), 2.0, 640, 0.2, force=True)
    assert forced.upsampling == pytest.approx(15.0) and forced.patches == 60 * 60
    assert plan_scene("s10.tif", (2048, 2048), (10.0, 10.0), 2.0, 640, 0.2).aircraft_px == pytest.approx(3.6)


def test_force_never_passes_the_memory_bound():
    for gsd in (1e6, 1e300):  # the MemoryError and OverflowError tracebacks
        with pytest.raises(RasterInputError, match="bound") as refused:
            plan_scene("s.tif", (2048, 2048), (gsd, gsd), 2.0, 640, 0.2, force=True)
        assert "\n" not in str(refused.value)
    with pytest.raises(RasterInputError, match="bound"):  # the 1 degree global raster, forced
        plan_scene("global.tif", (360, 180), (111_000.0, 110_600.0), 2.0, 640, 0.2, force=True)


def test_absurd_overlap_and_buffers_that_grow_with_an_option_are_refused():
    with pytest.raises(RasterInputError, match="overlap 0.99"):
        plan_scene("s.tif", (2048, 2048), (2.0, 2.0), 2.0, 640, 0.99)
    assert plan_scene("s.tif", (2048, 2048), (2.0, 2.0), 2.0, 640, 0.75).patches == 10 * 10
    with pytest.raises(RasterInputError, match="--batch-size"):
        plan_scene("s.tif", (100_000, 100_000), (2.0, 2.0), 2.0, 640, 0.2, batch_size=100_000)
    with pytest.raises(RasterInputError, match="--window-patches"):
        plan_scene("s.tif", (100_000, 100_000), (2.0, 2.0), 2.0, 640, 0.2, 3, "uint16", per_window=60)
    with pytest.raises(RasterInputError, match="--tile-size"):
        plan_scene("s.tif", (100_000, 100_000), (2.0, 2.0), 2.0, 100_000, 0.2, 3, "float64")
    # on a small scene a large --window-patches costs what the scene does: a window is at most the scene
    small = plan_scene("s.tif", (2048, 2048), (2.0, 2.0), 2.0, 640, 0.2, per_window=60)
    assert small.buffer_bytes <= 2048 * 2048 * (scene_plan.NETWORK_BYTES_PER_PX + 4 * 5)


def test_the_shipped_defaults_plan_the_bench_scene_and_a_70000_px_raster_well_inside_the_bound():
    bench = plan_scene("gf1.tif", (18000, 18192), (2.0, 2.0), 2.0, 640, 0.2, 1, "uint16", per_window=3)
    assert bench.patches == 1260 and bench.memory_bytes < 2e9
    huge = plan_scene("big.tif", (70_000, 70_000), (2.0, 2.0), 2.0, 640, 0.2, 1, "uint16", per_window=3)
    assert huge.patches == 137 * 137 and huge.memory_bytes < 2e9


def test_random_headers_plan_within_the_memory_bound_or_refuse_in_one_line(monkeypatch):
    """Property: size 1..1e6 px, gsd 1e-3..1e4 m, bands, dtypes, overlap, tile, window, batch, force."""

    def no_grid(*_args, **_kwargs):
        raise AssertionError("the planner must not build a grid")

    monkeypatch.setattr(scene_plan, "tile_grid", no_grid, raising=False)
    monkeypatch.setattr("engine.pipeline.tiling.tile_grid", no_grid)
    rng = np.random.default_rng(2015)
    bound, planned, refused = memory_bound_bytes(), 0, 0
    for _ in range(5000):
        size = tuple(int(v) for v in np.exp(rng.uniform(0, np.log(1e6), 2)).round().clip(1, 1e6))
        gsd = float(np.exp(rng.uniform(np.log(1e-3), np.log(1e4))))
        gsd_xy = (gsd, gsd * float(rng.choice([1.0, 1.0, 0.5, 2.0])))
        region = None
        if rng.random() < 0.2:
            x0, y0 = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
            region = (x0, y0, int(rng.integers(x0 + 1, size[0] + 1)), int(rng.integers(y0 + 1, size[1] + 1)))
        try:
            plan = plan_scene(
                "r.tif", size, gsd_xy, float(rng.choice([0.5, 2.0, 8.0])),
                int(rng.choice([64, 320, 640, 1024, 4096])), float(rng.choice([0.0, 0.2, 0.5, 0.75, 0.9, 0.99])),
                int(rng.choice([1, 3, 4])), str(rng.choice(["uint8", "uint16", "int16", "float32", "float64"])),
                int(rng.choice([0, 3, 5, 20])), int(rng.choice([1, 4, 64, 4096])), region, bool(rng.random() < 0.5),
            )
        except RasterInputError as exc:
            message = str(exc)
            assert message and "\n" not in message and len(message) < 400, message
            refused += 1
            continue
        assert 0 < plan.memory_bytes <= bound and plan.patches >= 1
        planned += 1
    assert planned > 500 and refused > 500  # both branches were exercised (no wall-clock bound: no_grid
    # above is what keeps planning cheap; speed belongs to the benchmark, not to a timed test)
