"""Output formats by extension (issue 15, item 10), pixel space without a made-up CRS (item 11), and OGR
failures with a reason (item 5): always through OGR, never a GeoPackage under another name."""

from __future__ import annotations

import os

import numpy as np
import pytest
from affine import Affine
from osgeo import ogr
from rasterio.crs import CRS

from engine.errors import OutputError
from engine.outputs import vector_writer
from engine.outputs.vector_writer import crs_note, write_detections
from engine.pipeline.detect import SceneDetections
from engine.pipeline.georef import box_rings_map

UTM = CRS.from_epsg(32650).to_wkt()
TRANSFORM = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4000000.0)


def _result(boxes, crs_wkt=UTM) -> SceneDetections:
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return SceneDetections(
        source="a.tif", crs_wkt=crs_wkt, boxes_raster_px=boxes, rings_map=box_rings_map(boxes, TRANSFORM),
        scores=np.linspace(0.9, 0.6, len(boxes)), patch_scores=np.full(len(boxes), 0.97),
        labels=("aircraft",) * len(boxes), stats=None,
    )


def _count(path) -> int:
    dataset = ogr.Open(str(path))  # keep it: a GDAL 3.6 layer does not keep its dataset alive
    return dataset.GetLayer(0).GetFeatureCount()


@pytest.mark.parametrize(
    ("name", "driver", "files", "keeps_crs"),
    [
        ("o.gpkg", "GPKG", ["o.gpkg"], True),
        ("o.shp", "ESRI Shapefile", ["o.dbf", "o.prj", "o.shp", "o.shx"], True),
        ("o.geojson", "GeoJSON", ["o.geojson"], True),
        ("o.fgb", "FlatGeobuf", ["o.fgb"], True),
        ("o.csv", "CSV", ["o.csv", "o.csvt"], False),
    ],
)
def test_the_extension_picks_the_ogr_format(tmp_path, name, driver, files, keeps_crs):
    out = write_detections([_result([[10, 20, 15, 30], [0, 0, 4, 4]])], str(tmp_path / name))
    assert sorted(os.listdir(tmp_path)) == files  # sidecars published, no temporaries left
    dataset = ogr.Open(out)
    assert dataset.GetDriver().GetName() == driver
    layer = dataset.GetLayer(0)
    feature = layer.GetNextFeature()
    assert layer.GetFeatureCount() == 2 and feature.GetField("score") == pytest.approx(0.9)
    assert feature.GetGeometryRef().GetEnvelope() == pytest.approx((500020.0, 500030.0, 3999940.0, 3999960.0))
    srs = layer.GetSpatialRef()
    assert (srs is not None and srs.GetAuthorityCode(None) == "32650") == keeps_crs
    assert (crs_note(out, [_result([])]) is None) == keeps_crs


def test_an_unknown_extension_is_refused_with_the_list_and_writes_nothing(tmp_path):
    for name in ("o.txt", "o.kml", "noextension"):
        with pytest.raises(OutputError, match=r"\.gpkg.*\.shp.*\.geojson.*\.fgb.*\.csv"):
            write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / name))
    assert os.listdir(tmp_path) == []


def test_pixel_space_geopackage_is_undefined_cartesian_not_undefined_geographic(tmp_path):
    out = write_detections([_result([[0, 0, 2, 2]], crs_wkt=None)], str(tmp_path / "p.gpkg"))
    dataset = ogr.Open(out)
    srs = dataset.GetLayer(0).GetSpatialRef()
    assert srs is None or not srs.IsGeographic()
    rows = dataset.ExecuteSQL("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'aircraft'")
    assert [f.GetField(0) for f in rows] == [-1]
    dataset.ReleaseResultSet(rows)


def test_shapefile_overwrite_replaces_every_sidecar_and_leaves_no_stale_one(tmp_path):
    write_detections([_result([[0, 0, 2, 2], [4, 4, 6, 6]])], str(tmp_path / "o.shp"))
    (tmp_path / "o.qix").write_bytes(b"old index")  # an index of the previous file would lie about the new one
    write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / "o.shp"), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["o.dbf", "o.prj", "o.shp", "o.shx"]
    assert _count(tmp_path / "o.shp") == 1


def test_existing_sidecars_count_as_an_existing_output(tmp_path):
    (tmp_path / "o.dbf").write_bytes(b"someone's table")
    with pytest.raises(OutputError, match=r"o\.dbf exists"):
        write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / "o.shp"))
    assert sorted(os.listdir(tmp_path)) == ["o.dbf"]
    write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / "o.shp"), overwrite=True)
    assert _count(tmp_path / "o.shp") == 1


def test_an_ogr_failure_without_words_still_gets_a_reason(tmp_path, monkeypatch):
    def silent_failure(*_args):
        raise RuntimeError("")  # what GDAL 3.6 raises when the disk is full

    monkeypatch.setattr(vector_writer, "ring_polygon", silent_failure)
    with pytest.raises(OutputError) as failed:
        write_detections([_result([[0, 0, 2, 2]])], str(tmp_path / "o.gpkg"))
    assert str(failed.value).split(": ", 1)[1].strip() and "MB free" in str(failed.value)
    assert os.listdir(tmp_path) == []
