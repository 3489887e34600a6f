"""The one reader interface: (raster, vector) pairs across CRSs, COCO with its images, the Airbus form; each
bad input one clear DatasetError, each oddity (empty layer, polygons outside, other classes) a note."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets.airbus import DatasetError, read_annotations, split_ids
from engine.datasets.labelled import LabelSource
from engine.datasets.readers import read_labelled
from engine.datasets.vector_labels import PIXEL_SPACE_TRANSFORM
from engine.pipeline.scene import PIXEL_SPACE_TRANSFORM as PIPELINE_PIXEL_SPACE
from tests.engine.labelled_scenes import BLOBS_PX, blob_box_px, write_blob_raster, write_coco, write_polygons

BOXES = [blob_box_px(*b) for b in BLOBS_PX]


@pytest.fixture
def raster(tmp_path):
    return write_blob_raster(tmp_path / "scene.tif")


def pairs(raster, vector, **kwargs):
    return read_labelled(LabelSource(pairs=((raster, vector),), **kwargs))


def test_a_wgs84_layer_lands_on_the_utm_raster_pixels(raster, tmp_path):
    data = pairs(raster, write_polygons(tmp_path / "refs.gpkg", BOXES, epsg=4326))
    (item,) = data.items
    np.testing.assert_allclose(item.boxes_raster_px, BOXES, atol=1e-3)
    assert list(item.reference_ids) == [1, 2, 3, 4, 5]  # the GeoPackage feature ids
    assert any("reprojected from EPSG:4326 to EPSG:32631" in note for note in data.all_notes())
    same_crs = pairs(raster, write_polygons(tmp_path / "utm.gpkg", BOXES, epsg=32631))
    assert not same_crs.all_notes()


def test_polygons_outside_or_across_the_edge_and_an_empty_layer_are_notes(raster, tmp_path):
    boxes = [BOXES[0], (-40.0, 10.0, -30.0, 16.0), (188.0, 60.0, 196.0, 66.0)]  # inside, outside, across the edge
    (item,) = pairs(raster, write_polygons(tmp_path / "refs.gpkg", boxes)).items
    np.testing.assert_allclose(item.boxes_raster_px, [BOXES[0], (188.0, 60.0, 192.0, 66.0)], atol=1e-6)
    assert list(item.reference_ids) == [1, 3]
    assert any("left out 1 outside scene.tif" in n for n in item.notes)
    assert any("clipped" in n for n in item.notes)
    empty = pairs(raster, write_polygons(tmp_path / "empty.gpkg", []))
    assert empty.n_references == 0
    assert any("no reference polygons" in n and "false positive" in n for n in empty.all_notes())


def test_class_field_filter_and_its_errors(raster, tmp_path):
    vector = write_polygons(tmp_path / "refs.gpkg", BOXES, classes=["plane", "heli", "plane", "plane", "heli"])
    kept = pairs(raster, vector, class_field="cls", class_values=("plane",))
    assert list(kept.items[0].reference_ids) == [1, 3, 4]
    with pytest.raises(DatasetError, match=r"has no field 'kind' \(fields: cls, score\)"):
        pairs(raster, vector, class_field="kind")
    with pytest.raises(DatasetError, match=r"no feature has cls = glider \(values present: heli, plane\)"):
        pairs(raster, vector, class_field="cls", class_values=("glider",))
    with pytest.raises(DatasetError, match="class field"):
        pairs(raster, vector, class_values=("plane",))


def test_layers_by_name_and_unreadable_inputs(raster, tmp_path):
    vector = write_polygons(tmp_path / "two.gpkg", BOXES[:2], layer="first")
    write_polygons(vector, BOXES, layer="second")
    assert pairs(raster, f"{vector}|layername=second").n_references == 5
    assert any("first layer 'first' of 2" in n for n in pairs(raster, vector).all_notes())
    with pytest.raises(DatasetError, match="no layer 'third'"):
        pairs(raster, f"{vector}|layername=third")
    with pytest.raises(DatasetError, match="reference layer not found"):
        pairs(raster, str(tmp_path / "missing.gpkg"))
    (tmp_path / "junk.gpkg").write_text("not a vector")
    with pytest.raises(DatasetError):
        pairs(raster, str(tmp_path / "junk.gpkg"))
    with pytest.raises(DatasetError, match="raster not found"):
        pairs(str(tmp_path / "missing.tif"), vector)


def test_coco_with_plain_images(tmp_path):
    write_blob_raster(tmp_path / "a.png", crs=None)
    write_blob_raster(tmp_path / "b.png", crs=None, seed=1)
    images = [("a.png", (192, 128), [(BOXES[0], "plane"), (BOXES[1], "heli")]), ("b.png", (192, 128), [])]
    path = write_coco(tmp_path / "labels.json", images, categories=("plane", "heli"))
    data = read_labelled(LabelSource(coco=path, gsd_m=2.0))
    assert [item.name for item in data.items] == ["a.png", "b.png"]
    np.testing.assert_allclose(data.items[0].boxes_raster_px, BOXES[:2])
    assert data.items[0].gsd_m == 2.0 and list(data.items[0].reference_ids) == [1, 2]
    planes = read_labelled(LabelSource(coco=path, class_values=("plane",), gsd_m=2.0))
    assert planes.n_references == 1 and any("other categories" in n for n in planes.notes)
    with pytest.raises(DatasetError, match="no category named glider"):
        read_labelled(LabelSource(coco=path, class_values=("glider",)))
    with pytest.raises(DatasetError, match="a.png has no georeference.*give --image-gsd"):
        read_labelled(LabelSource(coco=path))
    wrong = write_coco(tmp_path / "wrong.json", [("a.png", (100, 100), [])])
    with pytest.raises(DatasetError, match="is 192 x 128 px, the JSON says 100 x 100"):
        read_labelled(LabelSource(coco=wrong))
    with pytest.raises(DatasetError, match="not found"):
        read_labelled(LabelSource(coco=write_coco(tmp_path / "lost.json", [("c.png", (1, 1), [])])))
    (tmp_path / "bad.json").write_text('{"images": []}')
    with pytest.raises(DatasetError, match="needs 'images' and 'annotations'"):
        read_labelled(LabelSource(coco=str(tmp_path / "bad.json")))


def test_the_airbus_form_through_the_same_interface(shared_dir):
    root = shared_dir / "datasets" / "airbus-aircraft"
    data = read_labelled(LabelSource(airbus=str(root), airbus_split="val"))
    ids = split_ids("val", root)
    assert [item.name for item in data.items] == ids
    first = data.items[0]
    assert first.gsd_m == 0.5 and first.path.endswith(f"{ids[0]}.jpg")
    np.testing.assert_allclose(first.boxes_raster_px, read_annotations(root)[ids[0]][0])


def test_pixel_space_is_the_pipelines():
    assert PIXEL_SPACE_TRANSFORM == PIPELINE_PIXEL_SPACE
