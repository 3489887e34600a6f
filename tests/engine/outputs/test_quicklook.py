"""Quicklook PNG: decimated scene, boxes drawn where the detections are, written atomically."""

from __future__ import annotations

import os
import warnings

import numpy as np
import rasterio
import rasterio.errors

from engine.outputs.quicklook import draw_boxes, write_quicklook
from tests.engine.pipeline.conftest import write_tif


def test_quicklook_is_decimated_with_red_boxes(tmp_path):
    data = np.full((1, 400, 300), 1000, np.uint16)
    data[0, ::7, :] = 1500
    path = write_tif(tmp_path / "scene.tif", data)
    out = write_quicklook(path, np.array([[100, 200, 140, 240]]), str(tmp_path / "q.png"), max_px=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(out) as png:
            image = png.read()
    assert image.shape == (3, 200, 150)
    red = (image[0] == 255) & (image[1] == 40)
    rows, cols = np.nonzero(red)
    assert 48 <= cols.min() <= 50 and 70 <= cols.max() <= 72  # box x 100..140 at half scale
    assert 98 <= rows.min() <= 100 and 120 <= rows.max() <= 122
    assert sorted(os.listdir(tmp_path)) == ["q.png", "scene.tif"]


def test_tiny_boxes_stay_visible():
    image = np.zeros((3, 20, 20), np.uint8)
    draw_boxes(image, np.array([[10.2, 10.2, 10.4, 10.4]]))
    assert (image[0] == 255).sum() > 8
