"""The two scenes of the patch stream read alike: an in-memory image and the same pixels as a GeoTIFF
give the same patches (values, padding with the fill value, nodata, the emptiness rule)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.scene import ImageScene, patch_emptiness, read_patch


def _image(height: int = 100, width: int = 150) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 255, (height, width, 3)).astype(np.uint8)


@pytest.mark.parametrize("origin", [(0, 0), (100, 40), (120, 80)])  # inside, and hanging past both edges
def test_image_scene_reads_what_the_raster_reader_reads(tmp_path, tif, origin):
    image = _image()
    path = tif(tmp_path / "rgb.tif", image.transpose(2, 0, 1), photometric="RGB")
    with RasterScene(path, 2.0, fill_value=110.0) as raster, ImageScene(image, 110.0) as memory:
        assert memory.size_model_px == raster.size_model_px and memory.scale_xy == raster.scale_xy
        a, b = read_patch(raster, origin, 64), read_patch(memory, origin, 64)
        np.testing.assert_array_equal(a.image_u8, b.image_u8)
        assert (a.skip, a.valid_fraction) == (b.skip, b.valid_fraction)


def test_padding_and_nodata_take_the_fill_value():
    image = _image(40, 40)
    valid = np.ones((40, 40), bool)
    valid[:, :10] = False
    scene = ImageScene(image, 110.0, valid)
    values, mask = scene.read_region_u8((0, 0), (64, 48))
    assert values.shape == (3, 48, 64) and mask.shape == (48, 64)
    assert (values[:, :, :10] == 110).all() and (values[:, 40:, :] == 110).all() and (values[:, :, 40:] == 110).all()
    np.testing.assert_array_equal(values[:, :40, 10:40], image[:, 10:40].transpose(2, 0, 1))
    assert mask.sum() == 40 * 30
    overview, scale = scene.nodata_overview()
    assert scale == (1.0, 1.0) and not overview[:, :10].any()
    assert ImageScene(image, 110.0).nodata_overview() is None


def test_flat_or_empty_patches_are_skipped_and_grey_is_three_channels():
    flat = ImageScene(np.full((32, 32), 7, np.uint8), 110.0)
    patch = read_patch(flat, (0, 0), 32)
    assert patch.skip and patch.image_u8.shape == (3, 32, 32)
    assert patch_emptiness(np.zeros((1, 4, 4), np.uint8), np.zeros((4, 4), bool)) == (True, 0)
    with pytest.raises(ValueError, match="uint8"):
        ImageScene(np.zeros((4, 4), np.float32), 110.0)
