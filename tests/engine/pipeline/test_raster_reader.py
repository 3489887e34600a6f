"""Raster reading: dtypes, bands, nodata, resampling to the model gsd, georeference, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.enums import ColorInterp

from engine.errors import RasterInputError
from engine.pipeline.raster_reader import PIXEL_SPACE_TRANSFORM, RasterScene
from engine.pipeline.stretch import Stretch


def _ramp(shape, dtype, low, high):
    """Deterministic values spread over [low, high] so percentile stretches are predictable."""
    values = np.linspace(low, high, int(np.prod(shape)))
    return np.random.default_rng(0).permutation(values).reshape(shape).astype(dtype)


def test_uint8_grey_is_used_as_is_and_replicated_to_three_channels(tmp_path, tif):
    data = _ramp((1, 40, 50), np.uint8, 0, 255)
    with RasterScene(tif(tmp_path / "g.tif", data), model_gsd_m=2.0) as scene:
        patch = scene.read_patch((0, 0), 64)
    assert patch.image_u8.shape == (3, 64, 64) and patch.image_u8.dtype == np.uint8
    assert np.array_equal(patch.image_u8[0, :40, :50], data[0])
    assert np.array_equal(patch.image_u8[0], patch.image_u8[2])
    assert patch.valid_fraction == pytest.approx(40 * 50 / 64**2)  # the rest is padding


def test_padding_takes_the_fill_value(tmp_path, tif):
    data = _ramp((1, 10, 10), np.uint8, 0, 255)
    with RasterScene(tif(tmp_path / "g.tif", data), model_gsd_m=2.0, fill_value=110) as scene:
        patch = scene.read_patch((0, 0), 32)
    assert np.all(patch.image_u8[:, 10:, :] == 110) and np.all(patch.image_u8[:, :, 10:] == 110)


@pytest.mark.parametrize(
    "dtype,low,high", [(np.uint16, 100, 1100), (np.int16, -500, 500), (np.float32, 0.0, 1.0)]
)
def test_non_8_bit_data_gets_one_scene_wide_stretch(tmp_path, tif, dtype, low, high):
    data = _ramp((1, 128, 128), dtype, low, high)
    with RasterScene(tif(tmp_path / "s.tif", data), model_gsd_m=2.0) as scene:
        stretch = scene.stretch
        a, b = scene.read_patch((0, 0), 64), scene.read_patch((64, 64), 64)
    assert stretch.low[0] == pytest.approx(low + 0.005 * (high - low), rel=0.05, abs=0.02 * (high - low))
    assert stretch.high[0] == pytest.approx(low + 0.995 * (high - low), rel=0.05)
    expected_a = stretch.apply(data[:, :64, :64].astype(np.float64))[0]
    expected_b = stretch.apply(data[:, 64:, 64:].astype(np.float64))[0]
    assert np.array_equal(a.image_u8[0], expected_a) and np.array_equal(b.image_u8[0], expected_b)
    assert a.image_u8.min() == 0 or b.image_u8.min() == 0
    assert a.image_u8.max() == 255 or b.image_u8.max() == 255


def test_divide4_is_the_papers_fixed_10_bit_mapping(tmp_path, tif):
    data = np.full((1, 16, 16), 400, np.uint16)
    with RasterScene(tif(tmp_path / "d.tif", data), model_gsd_m=2.0, stretch_mode="divide4") as scene:
        assert scene.stretch == Stretch(low=(0.0,), high=(1020.0,))
        assert scene.read_patch((0, 0), 16).image_u8[0, 0, 0] == 100


def test_rgb_bands_follow_the_colour_interpretation(tmp_path, tif):
    data = np.stack([np.full((8, 8), v, np.uint8) for v in (10, 20, 30)])  # stored as B, G, R
    path = tif(tmp_path / "bgr.tif", data, photometric="RGB")
    import rasterio

    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = (ColorInterp.blue, ColorInterp.green, ColorInterp.red)
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.band_indexes == (3, 2, 1)
        assert scene.read_patch((0, 0), 8).image_u8[:, 0, 0].tolist() == [30, 20, 10]
    with RasterScene(path, model_gsd_m=2.0, bands=(2,)) as scene:
        assert scene.read_patch((0, 0), 8).image_u8[:, 0, 0].tolist() == [20, 20, 20]


def test_four_bands_without_colour_interpretation_take_1_2_3_with_a_note(tmp_path, tif):
    data = np.stack([np.full((8, 8), v, np.uint8) for v in (1, 2, 3, 4)])
    with RasterScene(tif(tmp_path / "ms.tif", data, photometric="MINISBLACK"), model_gsd_m=2.0) as scene:
        assert scene.band_indexes == (1, 2, 3)
        assert any("--bands" in note for note in scene.notes)


def test_unsupported_band_counts_and_types_are_refused(tmp_path, tif):
    two = tif(tmp_path / "two.tif", np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(RasterInputError, match="band count 2"):
        RasterScene(two, model_gsd_m=2.0)
    with RasterScene(two, model_gsd_m=2.0, bands=(2,)) as scene:  # --bands makes it usable
        assert scene.band_indexes == (2,)
    with pytest.raises(RasterInputError, match="no band 5"):
        RasterScene(two, model_gsd_m=2.0, bands=(5,))
    complex_path = tif(tmp_path / "c.tif", np.zeros((1, 8, 8), np.complex64))
    with pytest.raises(RasterInputError, match="data type complex64"):
        RasterScene(complex_path, model_gsd_m=2.0)


def test_nodata_and_constant_patches_are_marked_skip(tmp_path, tif):
    data = _ramp((1, 64, 128), np.uint16, 100, 2000)
    data[:, :, :64] = 0  # nodata half
    data[:, :32, 64:96] = 500  # a flat quarter... but the patch below still has texture
    with RasterScene(tif(tmp_path / "n.tif", data, nodata=0), model_gsd_m=2.0) as scene:
        nodata_patch = scene.read_patch((0, 0), 64)
        textured = scene.read_patch((64, 0), 64)
        flat = scene.read_patch((64, 0), 32)
    assert nodata_patch.skip and nodata_patch.valid_fraction == 0.0
    assert not textured.skip
    assert flat.skip and flat.valid_fraction == 1.0


def test_internal_mask_band_is_honoured(tmp_path, tif):
    import rasterio

    data = _ramp((1, 32, 32), np.uint8, 0, 255)
    path = tif(tmp_path / "m.tif", data)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as ds:
        mask = np.zeros((32, 32), np.uint8)
        mask[:, :16] = 255
        ds.write_mask(mask)
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.read_patch((16, 0), 16).skip
        assert scene.read_patch((0, 0), 16).valid_fraction == 1.0


def test_nan_pixels_are_nodata_in_float_rasters(tmp_path, tif):
    data = np.full((1, 16, 16), np.nan, np.float32)
    data[0, :4, :4] = 1.0
    data[0, 0, 0] = 2.0
    with RasterScene(tif(tmp_path / "f.tif", data), model_gsd_m=2.0) as scene:
        patch = scene.read_patch((0, 0), 16)
    assert patch.valid_fraction == pytest.approx(16 / 256) and not patch.skip


def test_finer_raster_is_averaged_down_to_the_model_gsd(tmp_path, tif):
    data = np.zeros((1, 64, 64), np.uint8)
    data[0, ::2, :] = 200  # alternating rows average to 100 at half resolution
    path = tif(tmp_path / "fine.tif", data, transform=Affine(1.0, 0, 500000.0, 0, -1.0, 4000000.0))
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.gsd_xy_m == pytest.approx((1.0, 1.0))
        assert scene.scale_xy == pytest.approx((2.0, 2.0))
        assert scene.size_model_px == (32, 32)
        patch = scene.read_patch((0, 0), 32)
    assert np.all(patch.image_u8[0] == 100)


def test_coarser_raster_is_upsampled_to_the_model_gsd(tmp_path, tif):
    data = _ramp((1, 16, 16), np.uint8, 0, 255)
    path = tif(tmp_path / "coarse.tif", data, transform=Affine(4.0, 0, 0.0, 0, -4.0, 0.0))
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.size_model_px == (32, 32)
        assert scene.read_patch((0, 0), 32).valid_fraction == 1.0


def test_geographic_raster_gsd_in_metres_at_its_latitude(tmp_path, tif):
    deg = 2.0 / 111319.49  # ~2 m of longitude at the equator
    transform = Affine(deg, 0, 30.0, 0, -deg, 0.0005)
    path = tif(tmp_path / "geo.tif", np.zeros((1, 8, 8), np.uint8), crs="EPSG:4326", transform=transform)
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.georeferenced
        assert scene.gsd_xy_m[0] == pytest.approx(2.0, rel=1e-3)
        assert scene.gsd_xy_m[1] == pytest.approx(2.0 * 110574.3 / 111319.49, rel=1e-3)


def test_gsd_override(tmp_path, tif):
    with RasterScene(tif(tmp_path / "o.tif", np.zeros((1, 8, 8), np.uint8)), 2.0, gsd_m=0.5) as scene:
        assert scene.scale_xy == (4.0, 4.0)
    with pytest.raises(RasterInputError, match="--gsd"):
        RasterScene(str(tmp_path / "o.tif"), 2.0, gsd_m=-1.0)


def test_raster_without_georeference_is_pixel_space_with_a_note(tmp_path, tif):
    path = tif(tmp_path / "plain.tif", np.zeros((1, 8, 8), np.uint8), crs=None)
    with RasterScene(path, model_gsd_m=2.0, gsd_m=0.5) as scene:
        assert not scene.georeferenced and scene.crs_wkt is None
        assert scene.transform == PIXEL_SPACE_TRANSFORM
        assert scene.gsd_xy_m == (0.5, 0.5)
        assert any("no georeference" in note and "--gsd" in note for note in scene.notes)
    with RasterScene(path, model_gsd_m=2.0) as scene:
        assert scene.gsd_xy_m == (2.0, 2.0) and "the model's" in scene.notes[0]


def test_bad_files_are_one_clear_error(tmp_path):
    with pytest.raises(RasterInputError, match="not found"):
        RasterScene(str(tmp_path / "missing.tif"), 2.0)
    with pytest.raises(RasterInputError, match="folder"):
        RasterScene(str(tmp_path), 2.0)
    text = tmp_path / "notes.tif"
    text.write_text("this is not a raster\n")
    with pytest.raises(RasterInputError, match="not a raster"):
        RasterScene(str(text), 2.0)


def test_overview_read_is_decimated(tmp_path, tif):
    with RasterScene(tif(tmp_path / "big.tif", np.zeros((1, 300, 200), np.uint8)), 2.0) as scene:
        raw, valid = scene.read_overview(100)
        thumb, scale = scene.thumbnail_u8(100)
    assert raw.shape == (1, 100, 67) and valid.shape == (100, 67)
    assert thumb.shape == (3, 100, 67) and scale == pytest.approx((200 / 67, 3.0))


def test_gdal_block_cache_is_capped_during_a_run_and_restored_after():
    from osgeo import gdal

    from engine.pipeline.raster_reader import bounded_gdal_cache

    before = gdal.GetCacheMax()
    with bounded_gdal_cache(64 * 1024 * 1024):
        assert gdal.GetCacheMax() == 64 * 1024 * 1024
    assert gdal.GetCacheMax() == before
