"""GeoPackage output: layer, fields, CRS, reprojection, overwrite rules, never a half-written file."""

from __future__ import annotations

import os

import numpy as np
import pytest
from affine import Affine
from osgeo import ogr
from rasterio.crs import CRS

from engine.errors import OutputError
from engine.outputs import vector_writer
from engine.outputs.vector_writer import write_detections
from engine.pipeline.detect import SceneDetections
from engine.pipeline.georef import box_rings_map

UTM = CRS.from_epsg(32650).to_wkt()
TRANSFORM = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4000000.0)


def _result(boxes, crs_wkt=UTM, transform=TRANSFORM, source="a.tif") -> SceneDetections:
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    n = len(boxes)
    return SceneDetections(
        source=source,
        crs_wkt=crs_wkt,
        boxes_raster_px=boxes,
        rings_map=box_rings_map(boxes, transform),
        scores=np.linspace(0.9, 0.6, n),
        patch_scores=np.full(n, 0.97),
        labels=("aircraft",) * n,
        stats=None,
    )


def _features(path):
    dataset = ogr.Open(str(path))
    layer = dataset.GetLayerByName("aircraft")
    rows = [
        (
            f.GetField("score"),
            f.GetField("patch_score"),
            f.GetField("label"),
            f.GetField("source"),
            f.GetGeometryRef().GetEnvelope(),
        )
        for f in layer
    ]
    srs = layer.GetSpatialRef()
    return rows, (srs.GetAuthorityCode(None) if srs else None), layer.GetGeomType()


def _leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_polygons_and_fields_in_the_raster_crs(tmp_path):
    out = write_detections([_result([[10, 20, 15, 30], [0, 0, 4, 4]])], str(tmp_path / "out.gpkg"))
    rows, epsg, geom_type = _features(out)
    assert epsg == "32650" and geom_type == ogr.wkbPolygon
    assert rows[0][:4] == (pytest.approx(0.9), pytest.approx(0.97), "aircraft", "a.tif")
    assert rows[0][4] == pytest.approx((500020.0, 500030.0, 3999940.0, 3999960.0))  # minx, maxx, miny, maxy
    assert len(rows) == 2 and _leftovers(tmp_path) == []


def test_several_rasters_in_one_layer_reprojected_to_the_first_crs(tmp_path):
    geographic = Affine(1e-5, 0, 117.01, 0, -1e-5, 36.1)  # just east of UTM 50N's central meridian
    second = _result(
        [[0, 0, 10, 10]], crs_wkt=CRS.from_epsg(4326).to_wkt(), transform=geographic, source="b.tif"
    )
    rows, epsg, _ = _features(write_detections([_result([[1, 1, 5, 5]]), second], str(tmp_path / "o.gpkg")))
    assert epsg == "32650" and [r[3] for r in rows] == ["a.tif", "b.tif"]
    minx, maxx, miny, maxy = rows[1][4]
    assert 500000 < minx < maxx < 600000 and 3990000 < miny < maxy < 4010000  # metres, not degrees
    assert maxx - minx == pytest.approx(10 * 1e-5 * 90000, rel=0.05)


def test_empty_result_still_writes_the_layer(tmp_path):
    rows, epsg, _ = _features(write_detections([_result(np.zeros((0, 4)))], str(tmp_path / "e.gpkg")))
    assert rows == [] and epsg == "32650"


def test_pixel_space_results_have_no_crs(tmp_path):
    rows, epsg, _ = _features(
        write_detections([_result([[0, 0, 2, 2]], crs_wkt=None)], str(tmp_path / "p.gpkg"))
    )
    assert epsg is None and len(rows) == 1


def test_existing_output_needs_overwrite_and_stays_untouched_without_it(tmp_path):
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="--overwrite"):
        write_detections([_result([[0, 0, 2, 2]])], str(out))
    assert out.read_bytes() == b"keep me"
    write_detections([_result([[0, 0, 2, 2]])], str(out), overwrite=True)
    assert len(_features(out)[0]) == 1


def test_missing_folder_and_folder_as_output_are_refused(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_detections([], str(tmp_path / "nope" / "out.gpkg"))
    with pytest.raises(OutputError, match="folder"):
        write_detections([], str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission"):
            write_detections([], str(folder / "out.gpkg"))
    finally:
        folder.chmod(0o700)


def test_mixed_georeferenced_and_pixel_space_is_refused(tmp_path):
    with pytest.raises(OutputError, match="non-georeferenced"):
        write_detections(
            [_result([[0, 0, 1, 1]]), _result([[0, 0, 1, 1]], crs_wkt=None)], str(tmp_path / "m.gpkg")
        )
    assert os.listdir(tmp_path) == []


def test_a_failure_while_writing_leaves_neither_output_nor_temp_files(tmp_path, monkeypatch):
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"previous run")
    real_polygon = vector_writer.ring_polygon
    calls = []

    def failing_polygon(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_polygon(*args)

    monkeypatch.setattr(vector_writer, "ring_polygon", failing_polygon)
    with pytest.raises(OutputError, match="disk full"):
        write_detections([_result([[0, 0, 2, 2], [4, 4, 6, 6]])], str(out), overwrite=True)
    assert out.read_bytes() == b"previous run"  # the old file is untouched
    assert _leftovers(tmp_path) == []


def test_ogr_exception_mode_is_restored(tmp_path):
    before = ogr.GetUseExceptions()
    write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / "x.gpkg"))
    assert ogr.GetUseExceptions() == before
