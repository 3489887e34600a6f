"""The local stretch: position-only mapping, robust to far-away bright things, no blow-up of flat ground."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.stretch import (
    LOCAL_CELL_PX,
    LocalStretch,
    _interpolation_matrix,
    percentile_stretch,
    scene_stretch,
    scene_to_u8,
)
from tests.engine.pipeline.conftest import write_tif


def _scene_with_cloud(size=2560, seed=0) -> np.ndarray:
    """Dark textured ground with a saturated cloud filling one quarter, and a mid-grey square far from it."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(300, 20, (1, size, size)).clip(1, 1023)
    raw[0, : size // 2, : size // 2] = 1023.0  # cloud
    raw[0, -400:-200, -400:-200] += 150  # a brighter object on the dark ground
    return raw.astype(np.uint16)


def test_a_far_cloud_does_not_flatten_the_ground():
    raw = _scene_with_cloud()
    corner = np.s_[0, -640:, -640:]
    scene_wide = scene_to_u8(raw, None, "percentile")[corner].astype(float)
    local = scene_to_u8(raw, None, "local")[corner].astype(float)
    assert np.ptp(scene_wide) < 100  # the cloud sets the scene's high end: the ground is squeezed
    assert local.std() > 1.5 * scene_wide.std()


def test_flat_ground_is_not_blown_up():
    rng = np.random.default_rng(1)
    raw = np.concatenate([rng.normal(300, 3, (1, 1280, 2560)), rng.normal(800, 60, (1, 1280, 2560))], axis=1)
    raw = raw.clip(1, 1023).astype(np.uint16)
    flat = scene_to_u8(raw, None, "local")[0, :400, :400].astype(float)
    scene = percentile_stretch(raw.astype(np.float32))
    span = scene.high[0] - scene.low[0]
    # at most 1 / LOCAL_MIN_RANGE times the scene-wide contrast: noise of std 3 DN stays small in 8 bits
    noise = np.diff(flat, axis=1).std() / np.sqrt(2)  # pixel-to-pixel noise, not the mapping's slow slope
    assert noise <= 3.0 * 255.0 / (0.4 * span) * 1.2


def test_the_mapping_depends_on_position_not_on_the_window(tmp_path):
    raw = _scene_with_cloud(size=2000, seed=2)
    path = write_tif(tmp_path / "s.tif", raw)
    with RasterScene(path, 2.0, stretch_mode="local") as scene:
        whole, _ = scene.read_region_u8((0, 0), scene.size_model_px)
        assert isinstance(scene.stretch, LocalStretch)
        for x, y in ((0, 0), (517, 903), (1360, 1360)):
            part, _ = scene.read_region_u8((x, y), (640, 640))
            np.testing.assert_array_equal(part[:, : 2000 - y, : 2000 - x], whole[:, y : y + 640, x : x + 640])


def test_a_uniform_scene_maps_like_the_scene_wide_stretch():
    rng = np.random.default_rng(3)
    raw = rng.normal(500, 80, (1, 1500, 1500)).clip(1, 1023).astype(np.uint16)
    local = scene_to_u8(raw, None, "local").astype(int)
    scene_wide = scene_to_u8(raw, None, "percentile").astype(int)
    assert np.abs(local - scene_wide).mean() < 2.0


def test_interpolation_is_bilinear_between_node_centres_and_flat_outside():
    weights = _interpolation_matrix(np.array([0.0, 320.0, 640.0, 960.0, 5000.0]), 3, LOCAL_CELL_PX)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(weights[1], [1, 0, 0])  # node 0 sits at 320
    np.testing.assert_allclose(weights[2], [0.5, 0.5, 0])
    np.testing.assert_allclose(weights[4], [0, 0, 1])


@pytest.mark.parametrize("mode", ["local", "percentile", "divide4", "none"])
def test_eight_bit_input_is_used_as_is_whatever_the_mode(mode):
    raw = np.random.default_rng(4).integers(0, 256, (3, 300, 300)).astype(np.uint8)
    mapping = scene_stretch(mode, "uint8", raw, None)
    np.testing.assert_array_equal(mapping.apply(raw), raw)
