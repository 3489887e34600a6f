"""Synthetic scenes: deterministic, aircraft where the truth says, blocks that stitch, valid GeoTIFFs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import rasterio

from engine.errors import OutputError
from engine.synthetic.layout import make_layout
from engine.synthetic.objects import boxes_array
from engine.synthetic.render import render_window
from engine.synthetic.scene_generator import (
    read_truth,
    render_scene,
    render_training_patch,
    truth_path,
    write_scene_geotiff,
)


def test_render_scene_is_reproducible_and_well_formed():
    scene = render_scene(np.random.default_rng(3), 256, 256, n_airports=1)
    again = render_scene(np.random.default_rng(3), 256, 256, n_airports=1)
    other = render_scene(np.random.default_rng(4), 256, 256, n_airports=1)
    np.testing.assert_array_equal(scene.image_u16, again.image_u16)
    np.testing.assert_array_equal(scene.boxes_px, again.boxes_px)
    assert not np.array_equal(scene.image_u16, other.image_u16)
    assert scene.image_u16.dtype == np.uint16 and scene.image_u16.shape == (256, 256)
    assert scene.boxes_px.dtype == np.float32 and scene.boxes_px.shape[1] == 4 and len(scene.boxes_px) > 0
    valid = scene.valid_mask
    np.testing.assert_array_equal(valid, scene.image_u16 > 0)  # 0 is nodata, and only there
    assert 0.5 < valid.mean() < 1.0  # a nodata margin, but most of the scene is data
    assert scene.image_u16[valid].min() >= 1 and scene.image_u16.max() <= 1023
    boxes = scene.boxes_px
    assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 1] >= 0)
    assert np.all(boxes[:, 2] <= 256) and np.all(boxes[:, 3] <= 256)
    for x0, y0, x1, y1 in boxes.astype(int):  # aircraft lie wholly on valid data
        assert valid[y0 : y1 + 1, x0 : x1 + 1].all()
    span = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    assert span.min() >= 5.0 and span.max() <= 75.0  # 6-60 px wingspans, longer bodies allowed


def test_true_boxes_are_tight_around_the_rendered_aircraft():
    """Without shadows, the aircraft change pixels only inside their true boxes, touching all four sides."""
    layout = make_layout(11, 256, 256, n_airports=1)
    layout = dataclasses.replace(layout, style=dataclasses.replace(layout.style, shadow_strength=0.0))
    assert len(layout.planes) >= 3
    with_planes, _ = render_window(layout, 0, 0, 256, 256)
    bare = dataclasses.replace(layout, planes=(), plane_boxes=boxes_array([]))
    without, _ = render_window(bare, 0, 0, 256, 256)
    changed = np.abs(with_planes - without) > 1.0
    inside = np.zeros_like(changed)
    for x0, y0, x1, y1 in layout.truth_boxes_px():
        rows = slice(int(np.floor(y0)), int(np.ceil(y1)))
        cols = slice(int(np.floor(x0)), int(np.ceil(x1)))
        inside[rows, cols] = True
        box = changed[rows, cols]
        assert box[:2].any() and box[-2:].any() and box[:, :2].any() and box[:, -2:].any()  # 1 px slack: AA
    assert not (changed & ~inside).any()


def test_windows_stitch_exactly():
    layout = make_layout(2, 300, 260, n_airports=1)
    whole, valid = render_window(layout, 0, 0, 300, 260)
    stitched = np.zeros_like(whole)
    for row0 in range(0, 300, 97):
        for col0 in range(0, 260, 71):
            rows, cols = min(97, 300 - row0), min(71, 260 - col0)
            block, _ = render_window(layout, row0, col0, rows, cols)
            stitched[row0 : row0 + rows, col0 : col0 + cols] = block
    np.testing.assert_array_equal(stitched, whole)


def _check_written_scene(path, height, width, seed, n_airports):
    """The file equals the scene rendered at once; georeference, nodata, tiling and truth are right."""
    layout = make_layout(seed, height, width, n_airports=n_airports)
    expected, _ = render_window(layout, 0, 0, height, width)
    with rasterio.open(path) as src:
        assert (src.height, src.width, src.count, src.dtypes[0]) == (height, width, 1, "uint16")
        assert src.nodata == 0 and src.crs.to_epsg() == 32650
        assert src.res == (2.0, 2.0) and src.profile["tiled"]
        data = src.read(1)
    np.testing.assert_array_equal(data, np.rint(expected).astype(np.uint16))
    truth = read_truth(path)
    np.testing.assert_allclose(truth.boxes_raster_px, layout.truth_boxes_px(), atol=0.006)
    boxes = truth.boxes_raster_px
    assert len(boxes) > 0
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= width) and np.all(boxes[:, 3] <= height)
    centres = ((boxes[:, 1] + boxes[:, 3]) / 2).astype(int), ((boxes[:, 0] + boxes[:, 2]) / 2).astype(int)
    assert np.all(data[centres] > 0)


def test_write_scene_geotiff_small(tmp_path):
    path = tmp_path / "scene.tif"
    truth = write_scene_geotiff(path, 600, 530, seed=5, n_airports=1)
    assert truth.path == str(path) and truth_path(path).is_file()
    _check_written_scene(path, 600, 530, 5, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif", "scene.tif.boxes.csv"]  # no temp left


@pytest.mark.slow
def test_write_scene_geotiff_2048_blocks_stitch(tmp_path):
    path = tmp_path / "scene2048.tif"
    write_scene_geotiff(path, 2048, 2048, seed=11, n_airports=2)
    _check_written_scene(path, 2048, 2048, 11, 2)


def test_write_scene_geotiff_bands_dtype_and_errors(tmp_path):
    path = tmp_path / "rgb.tif"
    write_scene_geotiff(path, 64, 80, seed=1, n_airports=0, bands=3, dtype="uint8")
    with rasterio.open(path) as src:
        data = src.read()
    assert data.shape == (3, 64, 80) and data.dtype == np.uint8
    np.testing.assert_array_equal(data[0] > 0, data[2] > 0)  # the same nodata in every band
    with pytest.raises(OutputError, match="exists"):
        write_scene_geotiff(path, 64, 80, seed=1, overwrite=False)
    with pytest.raises(OutputError, match="does not exist"):
        write_scene_geotiff(tmp_path / "missing" / "x.tif", 64, 80, seed=1)
    with pytest.raises(ValueError, match="dtype"):
        write_scene_geotiff(tmp_path / "y.tif", 64, 80, seed=1, dtype="float32")
    with pytest.raises(FileNotFoundError):
        read_truth(tmp_path / "nothing.tif")


def test_training_patches_hold_aircraft_or_none():
    rng = np.random.default_rng(0)
    image, boxes = render_training_patch(rng, size_px=256, empty_fraction=0.0)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 0], image[..., 2])  # grey replicated
    assert len(boxes) >= 1 and boxes.dtype == np.float32
    assert np.all(boxes >= 0) and np.all(boxes <= 256) and np.all(boxes[:, 2:] > boxes[:, :2])
    assert image.max() > 200 and image.std() > 10  # stretched to the 8-bit range
    _, empty = render_training_patch(rng, size_px=256, empty_fraction=1.0)
    assert empty.shape == (0, 4)
