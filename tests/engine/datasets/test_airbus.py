"""Airbus reader: real data from ../shared (never copied), plus tiny hand-made folders for edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.datasets import airbus
from engine.datasets.airbus import (
    DatasetError,
    list_image_ids,
    load_image,
    read_annotations,
    training_ids,
    validation_ids,
)


@pytest.fixture(scope="module")
def airbus_root(shared_dir):
    return shared_dir / "datasets" / "airbus-aircraft"


def test_default_root_is_the_shared_folder_next_to_the_repo():
    assert airbus.DEFAULT_AIRBUS_ROOT == airbus.REPO_ROOT.parent / "shared" / "datasets" / "airbus-aircraft"


def test_real_annotations_and_ids(airbus_root):
    annotations = read_annotations(airbus_root)
    ids = list_image_ids(airbus_root)
    assert len(ids) == 88 and ids == sorted(ids) and not any(i.endswith(".jpg") for i in ids)
    assert sum(len(annotations[i][0]) for i in ids) == 2837
    assert sum(int(annotations[i][1].sum()) for i in ids) == 89  # Truncated_airplane rows
    boxes = np.concatenate([annotations[i][0] for i in ids])
    assert boxes.dtype == np.float32 and np.all(boxes[:, 2:] > boxes[:, :2])


def test_validation_split_is_fixed_and_disjoint_from_training(airbus_root):
    val = validation_ids()
    train = training_ids(airbus_root)
    everything = list_image_ids(airbus_root)
    assert len(val) == 16 and len(set(val)) == 16
    assert set(val) <= set(everything)
    assert not set(val) & set(train) and sorted(set(val) | set(train)) == everything


def test_load_image_at_2m_is_640px_with_quartered_boxes(airbus_root):
    image_id = validation_ids()[0]
    raw_boxes, raw_truncated = read_annotations(airbus_root)[image_id]
    item = load_image(airbus_root, image_id)
    assert item.image.shape == (640, 640, 3) and item.image.dtype == np.uint8
    np.testing.assert_allclose(item.boxes_px, raw_boxes / 4.0, atol=1e-4)
    np.testing.assert_array_equal(item.truncated, raw_truncated)
    with Image.open(airbus_root / "images" / f"{image_id}.jpg") as source:
        original = np.asarray(source.convert("RGB"), dtype=np.float64)
    block_mean = original.reshape(640, 4, 640, 4, 3).mean(axis=(1, 3))  # area averaging, exactly
    assert np.abs(item.image - block_mean).max() <= 1.0


def _tiny_dataset(root, geometry: str, size=(100, 60), klass="Airplane"):
    (root / "images").mkdir(parents=True)
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    pixels[:, size[0] // 2 :] = 200
    Image.fromarray(pixels).save(root / "images" / "img1.jpg", quality=100)
    (root / "annotations.csv").write_text(f'id,image_id,geometry,class\n1,img1.jpg,"{geometry}",{klass}\n')


def test_any_resampling_ratio_scales_boxes_by_the_same_factor(tmp_path):
    _tiny_dataset(tmp_path, "[(10, 6), (40, 6), (40, 30), (10, 30), (10, 6)]", klass="Truncated_airplane")
    item = load_image(tmp_path, "img1", gsd_m=1.5, source_gsd_m=0.5)  # 100 x 60 -> 33 x 20
    assert item.image.shape == (20, 33, 3)
    np.testing.assert_allclose(item.boxes_px[0], [10 * 0.33, 6 / 3, 40 * 0.33, 30 / 3], rtol=1e-5)
    assert item.truncated.tolist() == [True]
    assert list_image_ids(tmp_path) == ["img1"]


@pytest.mark.parametrize(
    "geometry",
    ["__import__('os').system('true')", "[(1, 2), (3, 4)]", "[(5, 5), (5, 5), (5, 5)]", "not a polygon"],
)
def test_bad_geometry_is_a_clear_dataset_error(tmp_path, geometry):
    _tiny_dataset(tmp_path, geometry)
    with pytest.raises(DatasetError, match="geometry|box|polygon"):
        read_annotations(tmp_path)


def test_missing_folder_or_image_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="annotations"):
        read_annotations(tmp_path / "nowhere")
    _tiny_dataset(tmp_path, "[(10, 6), (40, 6), (40, 30), (10, 30), (10, 6)]")
    with pytest.raises(DatasetError, match="image not found"):
        load_image(tmp_path, "img2")
