"""Training and detection produce the same 8-bit patch from the same raster (the radiometry contract)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.scene import patch_fill_value
from engine.pipeline.stretch import scene_to_u8
from engine.synthetic.scene_generator import render_scene
from engine.training.raster_source import raster_training_image
from tests.engine.pipeline.conftest import write_tif


@pytest.fixture(scope="module")
def scene_12bit(tmp_path_factory):
    """A generated scene with airports, as 12-bit DN with nodata 0."""
    scene = render_scene(np.random.default_rng(5), 1800, 1800, n_airports=1)
    raw = np.where(scene.valid_mask, scene.image_u16.astype(np.uint32) * 4, 0).astype(np.uint16)
    path = write_tif(tmp_path_factory.mktemp("contract") / "s12.tif", raw, nodata=0)
    return path, raw, scene


@pytest.mark.parametrize("mode", ["local", "percentile"])
def test_training_reads_the_patch_detection_reads(scene_12bit, mode):
    path, _, scene = scene_12bit
    model = ModelConfig()
    item = raster_training_image(path, scene.boxes_px, model, mode)
    with RasterScene(path, model.gsd_m, stretch_mode=mode, fill_value=patch_fill_value(model)) as raster:
        for x, y in ((0, 0), (640, 512), (1160, 1160)):
            patch = raster.read_patch((x, y), 640)
            np.testing.assert_array_equal(np.transpose(patch.image_u8, (1, 2, 0)), item.image[y : y + 640, x : x + 640])
    np.testing.assert_allclose(item.boxes_px, scene.boxes_px)


@pytest.mark.parametrize("mode", ["local", "percentile"])
def test_in_memory_scenes_map_as_their_raster_would(scene_12bit, mode):
    """Gate tuning and calibration render generated scenes in memory: the same bytes as reading the file."""
    path, raw, scene = scene_12bit
    in_memory = scene_to_u8(raw[None], scene.valid_mask, mode)[0]
    with RasterScene(path, 2.0, stretch_mode=mode) as raster:
        read, valid = raster.read_region_u8((0, 0), raster.size_model_px)
    np.testing.assert_array_equal(in_memory[valid], read[0][valid])
