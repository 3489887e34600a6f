"""Activity over time on three dated scenes of one apron (dates from TIFFTAG_DATETIME, a GF-1 XML beside the
raster and the file name; a fourth undated): counts per date equal the detections inside the site, and the
aircraft that arrived or departed between dates are found on the ground, through a small registration shift."""

from __future__ import annotations

import csv
import os
from datetime import date

import numpy as np
import pytest
import rasterio
from osgeo import ogr, osr
from rasterio.transform import from_origin

from engine.archive.activity import ActivitySettings, SceneInput, summarise
from engine.archive.scene_dates import compile_pattern, parse_date, scene_date

UTM, X0, Y0, GSD = 32650, 500000.0, 4000000.0, 2.0
SITE_PX = (100, 100, 400, 400)  # the apron, in raster px of every scene
# Aircraft (column, row of the top-left corner, 20 x 20 px) per scene; "far" stands outside the apron.
P1, P2, P3, P4, P5, FAR = (120, 120), (200, 150), (300, 300), (150, 330), (330, 130), (900, 20)
SCENES = (
    ("a.tif", {"TIFFTAG_DATETIME": "2026:03:01 03:10:00"}, None, [P1, P2, P3, FAR]),
    ("GF1_PMS1_E116.5_N40.1_20260315_L1A0000092612.tif", {}, None, [P1, P2, P4]),
    ("c.tif", {}, "<ProductMetaData><CenterTime>2026-04-02 03:11:05</CenterTime></ProductMetaData>",
     [(P1[0] + 1.5, P1[1]), P4, P5]),  # P1 again, 3 m east: another scene's registration
)


def _write_raster(path, tags=None) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="uint8",
                       crs=f"EPSG:{UTM}", transform=from_origin(X0, Y0, GSD, GSD)) as dst:
        dst.write(np.zeros((1, 1024, 1024), np.uint8))
        if tags:
            dst.update_tags(**tags)
    return str(path)


def _utm(col, row) -> tuple[float, float]:
    return X0 + col * GSD, Y0 - row * GSD


def _polygon(x0, y0, x1, y1) -> ogr.Geometry:
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
        ring.AddPoint_2D(*_utm(x, y))
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon


def _write_detections(path, corners) -> str:
    """An r2cnn-like detection GeoPackage (layer aircraft, score) in UTM 50N."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(UTM)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = dataset.CreateLayer("aircraft", srs=srs, geom_type=ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("score", ogr.OFTReal))
    for index, (col, row) in enumerate(corners):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("score", 0.9 - 0.01 * index)
        feature.SetGeometry(_polygon(col, row, col + 20, row + 20))
        layer.CreateFeature(feature)
    dataset = None
    return str(path)


def _write_sites(path) -> str:
    """The apron as a polygon in Web Mercator (another CRS than the scenes'), field name."""
    target = osr.SpatialReference()
    target.ImportFromEPSG(3857)
    source = osr.SpatialReference()
    source.ImportFromEPSG(UTM)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    polygon = _polygon(*SITE_PX)
    polygon.Transform(osr.CoordinateTransformation(source, target))
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = dataset.CreateLayer("airfields", srs=target, geom_type=ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("name", "Apron A")
    feature.SetGeometry(polygon)
    layer.CreateFeature(feature)
    dataset = None
    return str(path)


@pytest.fixture()
def site_scenes(tmp_path):
    rasters, detections = [], []
    for name, tags, xml, corners in SCENES:
        rasters.append(_write_raster(tmp_path / name, tags))
        if xml:
            (tmp_path / (os.path.splitext(name)[0] + ".xml")).write_text(xml)
        detections.append(_write_detections(tmp_path / f"{name}.gpkg", corners))
    undated = _write_raster(tmp_path / "d.tif")
    detections.append(_write_detections(tmp_path / "d.gpkg", [P1]))
    return [*rasters, undated], detections, _write_sites(tmp_path / "sites.gpkg")


def _inputs(rasters, detections, pattern=None):
    return [SceneInput(r, d, scene_date(r, compile_pattern(pattern))) for r, d in zip(rasters, detections, strict=True)]


def test_dates_come_from_the_tiff_tag_the_gf1_xml_and_the_name_and_an_undated_scene_is_reported(site_scenes):
    rasters, _detections, _sites = site_scenes
    found = [scene_date(path) for path in rasters]
    assert [(f.iso, f.source) for f in found] == [
        ("2026-03-01", "TIFFTAG_DATETIME"), ("2026-03-15", "file name"),
        ("2026-04-02", "c.xml"), ("", "no date in the metadata, beside it or in the name of d.tif"),
    ]
    assert scene_date(rasters[1], compile_pattern(r"_(\d{8})_L1A")).iso == "2026-03-15"
    assert scene_date(rasters[0], compile_pattern(r"_(\d{8})_")).date is None  # the override does not fall back
    assert parse_date("L1A0000092612 20261301 2026-02-30 2026:12:07") == date(2026, 12, 7)


def test_dates_from_dimap_and_imd_sidecars_and_gdal_acquisition_metadata(tmp_path):
    dimap, imd, tagged = (tmp_path / n for n in ("dimap", "imd", "tagged"))
    for folder in (dimap, imd):
        folder.mkdir()
    _write_raster(dimap / "IMG_PHR1A_P_001.tif")
    (dimap / "DIM_PHR1A_P_001.XML").write_text(
        "<Dimap_Document><Dataset_Sources><Source_Identification><Strip_Source>"
        "<IMAGING_DATE>2025-11-30</IMAGING_DATE><IMAGING_TIME>10:21:07.5Z</IMAGING_TIME>"
        "</Strip_Source></Source_Identification></Dataset_Sources></Dimap_Document>")
    _write_raster(imd / "13JAN05-WV2.tif")  # a date-like name that is no date: the IMD wins
    (imd / "13JAN05-WV2.IMD").write_text('version = "28.3";\nBEGIN_GROUP = IMAGE_1\n'
                                         '    firstLineTime = 2024-06-02T03:44:12.123456Z;\nEND_GROUP = IMAGE_1\n')
    _write_raster(f"{tagged}.tif", {"ACQUISITIONDATETIME": "2023-07-14T02:00:00Z",
                                    "TIFFTAG_DATETIME": "2026:01:01 00:00:00"})
    assert [(d.iso, d.source) for d in (scene_date(str(dimap / "IMG_PHR1A_P_001.tif")),
                                        scene_date(str(imd / "13JAN05-WV2.tif")), scene_date(f"{tagged}.tif"))] == [
        ("2025-11-30", "DIM_PHR1A_P_001.XML"), ("2024-06-02", "13JAN05-WV2.IMD"), ("2023-07-14", "ACQUISITIONDATETIME")]


def test_a_scene_without_a_crs_is_left_out_and_said(site_scenes, tmp_path):
    rasters, detections, sites = site_scenes
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "pixels.gpkg"))
    dataset.CreateLayer("aircraft", geom_type=ogr.wkbPolygon).CreateField(ogr.FieldDefn("score", ogr.OFTReal))
    dataset = None
    scenes = [*_inputs(rasters[:1], detections[:1]),
              SceneInput("pixels_20260309.tif", str(tmp_path / "pixels.gpkg"), scene_date("pixels_20260309.tif"))]
    activity = summarise(scenes, ActivitySettings(sites=sites))
    assert [r.aircraft for r in activity.rows] == [3] and [s for s, _ in activity.unplaced] == ["pixels_20260309.tif"]


def test_three_dated_scenes_of_one_site_give_its_counts_and_what_arrived_and_departed(site_scenes):
    rasters, detections, sites = site_scenes
    activity = summarise(_inputs(rasters, detections), ActivitySettings(sites=sites))
    assert [(r.site, r.date.isoformat(), r.aircraft) for r in activity.rows] == [
        ("Apron A", "2026-03-01", 3), ("Apron A", "2026-03-15", 3), ("Apron A", "2026-04-02", 3),
    ]  # the detections inside the apron in each scene (FAR is outside it)
    assert activity.outside == 1 and [s for s, _ in activity.undated] == [rasters[3]]
    changes = sorted((c.from_date.isoformat(), c.change, _corner(c.ring)) for c in activity.changes)
    assert changes == [
        ("2026-03-01", "arrived", P4), ("2026-03-01", "departed", P3),
        ("2026-03-15", "arrived", P5), ("2026-03-15", "departed", P2),
    ]  # P1 stays, though 3 m off in the third scene


def test_without_sites_the_clusters_of_detections_are_the_sites(site_scenes):
    rasters, detections, _sites = site_scenes
    activity = summarise(_inputs(rasters, detections)[:3], ActivitySettings())
    apron = activity.sites[0].name
    assert [(r.site, r.aircraft) for r in activity.rows if r.site == apron] == [(apron, 3)] * 3
    assert len(activity.sites) == 2 and activity.outside == 0  # FAR (over a km away) stands alone


def test_r2cnn_activity_on_an_archive_folder_writes_csv_gpkg_and_png(site_scenes, tmp_path):
    from engine.archive.catalogue import write_catalogue
    from engine.archive.footprint import footprint_wkt
    from engine.archive.records import DONE, SceneRecord
    from engine.cli.main import main

    rasters, detections, sites = site_scenes
    outdir = tmp_path / "archive"
    (outdir / "scenes").mkdir(parents=True)
    records = []
    for index, (raster, gpkg) in enumerate(zip(rasters, detections, strict=True)):
        output = f"scenes/s{index}.gpkg"
        os.replace(gpkg, outdir / output)
        records.append(SceneRecord(raster, DONE, output=output, footprint_wkt=footprint_wkt(raster)))
    _write_detections(outdir / "scenes" / "empty.gpkg", [])  # a fourth date over the apron, no aircraft
    empty = _write_raster(tmp_path / "e_20260420.tif")
    records.append(SceneRecord(empty, DONE, output="scenes/empty.gpkg", footprint_wkt=footprint_wkt(empty)))
    write_catalogue(str(outdir / "catalogue.gpkg"), records)
    assert main(["activity", str(outdir), "--sites", sites]) == 0
    with open(outdir / "activity.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["site", "date", "aircraft"], ["Apron A", "2026-03-01", "3"], ["Apron A", "2026-03-15", "3"],
                    ["Apron A", "2026-04-02", "3"], ["Apron A", "2026-04-20", "0"]]
    dataset = ogr.Open(str(outdir / "activity.gpkg"))
    assert {dataset.GetLayer(i).GetName(): dataset.GetLayer(i).GetFeatureCount() for i in range(3)} == {
        "sites": 1, "site_counts": 4, "changes": 7}  # 4 + 3 departed when the apron is seen empty
    assert (outdir / "activity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["activity", str(tmp_path / "nothing")]) == 2
    assert main(["activity", str(outdir), "--date-pattern", "(["]) == 2


def _corner(ring) -> tuple[int, int]:
    """The top-left corner (raster px) of a lon / lat ring of these scenes, to the nearest pixel."""
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromEPSG(4326)
    target.ImportFromEPSG(UTM)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    points = osr.CoordinateTransformation(source, target).TransformPoints([tuple(p) for p in ring])
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return round((min(xs) - X0) / GSD), round((Y0 - max(ys)) / GSD)
