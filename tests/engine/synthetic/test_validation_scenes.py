"""The whole-scene validation set builder: reproducible, truth where the airports went, bit depth honoured."""

from __future__ import annotations

import numpy as np
import rasterio

from engine.synthetic.scene_generator import read_truth
from engine.synthetic.validation_scenes import Airport, build_scene


def _airports(count: int) -> list[Airport]:
    """Small labelled images: grey apron with white crosses (the boxes)."""
    rng = np.random.default_rng(0)
    airports = []
    for _ in range(count):
        image = np.full((200, 200, 3), 90, np.uint8)
        boxes = []
        for _ in range(3):
            x, y = rng.integers(10, 170, 2)
            image[y : y + 20, x + 8 : x + 12] = 255
            image[y + 8 : y + 12, x : x + 20] = 255
            boxes.append([x, y, x + 20, y + 20])
        airports.append(Airport(image, np.array(boxes, np.float32)))
    return airports


def test_scene_holds_the_airports_at_the_truth_boxes(tmp_path):
    path = tmp_path / "scene.tif"
    boxes = build_scene(path, _airports(3), seed=4, bits=12, size_px=(1500, 1400), clouds=2, workers=1)
    assert len(boxes) == 9
    np.testing.assert_allclose(read_truth(path).boxes_raster_px, boxes, atol=0.01)
    with rasterio.open(path) as src:
        data = src.read(1)
        assert (src.width, src.height, src.dtypes[0], src.nodata) == (1400, 1500, "uint16", 0)
    assert data.max() > 1023  # 12-bit values
    assert (data == 0).any()  # the nodata margin
    for x0, y0, x1, _ in boxes.astype(int):
        cross = data[y0 + 8 : y0 + 12, x0 : x1]
        around = data[y0 - 6 : y0 - 2, x0 : x1]
        assert cross.mean() > around.mean() + 200  # the white aircraft stands out of its apron


def test_same_arguments_same_scene(tmp_path):
    a = build_scene(tmp_path / "a.tif", _airports(2), seed=9, bits=10, size_px=(1200, 1200), workers=1)
    b = build_scene(tmp_path / "b.tif", _airports(2), seed=9, bits=10, size_px=(1200, 1200), workers=1)
    np.testing.assert_array_equal(a, b)
    with rasterio.open(tmp_path / "a.tif") as ra, rasterio.open(tmp_path / "b.tif") as rb:
        np.testing.assert_array_equal(ra.read(), rb.read())
        assert ra.read().max() <= 1023


def _edge_share(path) -> float:
    """Share of horizontal neighbours over valid land that step by > 40 DN: roads, field and town edges."""
    with rasterio.open(path) as src:
        data = src.read(1).astype(np.float32)
    valid = (data[:, 1:] > 0) & (data[:, :-1] > 0)
    return float((np.abs(np.diff(data, axis=1))[valid] > 40).mean())


def test_clutter_adds_land_edges_and_keeps_the_airports(tmp_path):
    plain = build_scene(tmp_path / "a.tif", _airports(2), seed=5, bits=10, size_px=(2400, 2400), workers=1, clutter=0)
    busy = build_scene(tmp_path / "b.tif", _airports(2), seed=5, bits=10, size_px=(2400, 2400), workers=1, clutter=8)
    np.testing.assert_array_equal(plain, busy)  # the same airports at the same places
    assert _edge_share(tmp_path / "b.tif") > 1.5 * _edge_share(tmp_path / "a.tif")
