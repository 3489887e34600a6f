"""The fine-tuning hold-out: blocks of the user's rasters split reproducibly, never both trained and validated on,
read through RasterScene (the 8-bit pixels detection sees), and refused when the data cannot be split."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import DetectConfig, ModelConfig
from engine.datasets.airbus import DatasetError
from engine.datasets.labelled import LabelledRaster, LabelledSet
from engine.pipeline.raster_reader import RasterScene
from engine.training.holdout import (
    HoldoutConfig,
    plan_blocks,
    read_blocks,
    split_holdout,
    training_images,
    validation_images,
)
from tests.engine.labelled_scenes import blob_box_px, write_blob_raster

MODEL = ModelConfig()
DETECT = DetectConfig()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A 2600 x 200 px strip (three blocks, aircraft in two) and three small images (one block each)."""
    folder = tmp_path_factory.mktemp("holdout")
    strip = [(40, 40), (100, 120), (1800, 60), (1810, 100)]
    items = [LabelledRaster(write_blob_raster(folder / "strip.tif", strip, (2600, 200)),
                            [blob_box_px(*b) for b in strip], [1, 2, 3, 4])]
    for index in range(3):
        blobs = [(20 + 16 * index, 20)] if index < 2 else []
        path = write_blob_raster(folder / f"small{index}.tif", blobs, seed=index)
        items.append(LabelledRaster(path, [blob_box_px(*b) for b in blobs], list(range(len(blobs)))))
    return LabelledSet(tuple(items), "test data")


def test_blocks_split_reproducibly_and_disjointly(data):
    config = HoldoutConfig(fraction=0.4, seed=3)
    blocks = plan_blocks(data, MODEL, config, DETECT)
    assert [b.region_model_px for b in blocks[:3]] == [(0, 0, 867, 200), (867, 0, 1733, 200), (1733, 0, 2600, 200)]
    assert [b.aircraft for b in blocks] == [2, 0, 2, 1, 1, 0]
    split = split_holdout(blocks, config)
    assert split == split_holdout(blocks, config)  # the same data, fraction and seed: the same split
    assert not set(split.train) & set(split.val)
    positives = {b for b in blocks if b.aircraft}
    assert {b for b in split.val if b.aircraft} | {b for b in split.train if b.aircraft} == positives
    assert sum(1 for b in split.val if b.aircraft) == 2  # 40 % of four blocks with aircraft
    seeds = {tuple(b.region_model_px + (b.raster,) for b in split_holdout(blocks, HoldoutConfig(0.4, seed=s)).val)
             for s in range(6)}
    assert len(seeds) > 1  # the seed chooses


def test_blocks_hold_the_pixels_detection_reads(data):
    blocks = plan_blocks(data, MODEL, HoldoutConfig(), DETECT)
    strip = [b for b in blocks if b.raster == 0]
    with RasterScene(data.items[0].path, MODEL.gsd_m, fill_value=110.0) as scene:
        for block, image, valid, boxes in read_blocks(data, strip, MODEL, DETECT):
            x0, y0, x1, y1 = block.region_model_px
            expected, _ = scene.read_region_u8((x0, y0), (x1 - x0, y1 - y0))
            np.testing.assert_array_equal(image[..., 0], expected[0])
            assert image.shape[2] == 3 and valid.all() and len(boxes) == block.aircraft
    images = validation_images(data, [strip[2]], MODEL, DETECT)
    np.testing.assert_allclose(images[0].boxes_px, [(67, 60, 73, 66), (77, 100, 83, 106)])  # in block px
    assert len(training_images(data, blocks, MODEL, DETECT)) == len(blocks)


def test_data_that_cannot_be_split_is_refused(data):
    one = LabelledSet(data.items[1:2], "one image")
    with pytest.raises(DatasetError, match="at least two blocks"):
        split_holdout(plan_blocks(one, MODEL, HoldoutConfig(), DETECT), HoldoutConfig())
    with pytest.raises(DatasetError, match="between 0 and 1"):
        split_holdout(plan_blocks(data, MODEL, HoldoutConfig(), DETECT), HoldoutConfig(fraction=1.0))
