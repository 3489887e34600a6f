"""One GeoPackage of aircraft polygons (OGR), written to a temporary file and renamed: never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager

from osgeo import ogr, osr

from engine.errors import OutputError

LAYER_NAME = "aircraft"
FIELDS = (
    ("score", ogr.OFTReal),
    ("patch_score", ogr.OFTReal),
    ("label", ogr.OFTString),
    ("source", ogr.OFTString),
)


def check_output_path(out_path: str, overwrite: bool) -> None:
    """Fail before any work: existing output without overwrite, missing or unwritable folder."""
    folder = os.path.dirname(os.path.abspath(out_path))
    if os.path.isdir(out_path):
        raise OutputError(f"{out_path} is a folder, not a file name")
    if os.path.exists(out_path) and not overwrite:
        raise OutputError(f"{out_path} exists (use --overwrite to replace it)")
    if not os.path.isdir(folder):
        raise OutputError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {folder} (permission denied)")


def output_srs(results: Sequence) -> osr.SpatialReference | None:
    """The layer's CRS: the first georeferenced raster's; mixing pixel-space and georeferenced is refused."""
    wkts = [r.crs_wkt for r in results]
    if any(w is None for w in wkts) and any(w is not None for w in wkts):
        raise OutputError("cannot put georeferenced and non-georeferenced rasters in one GeoPackage layer")
    if not wkts or wkts[0] is None:
        return None
    return _srs(wkts[0])


def write_geopackage(results: Sequence, out_path: str, overwrite: bool = False) -> str:
    """Write all SceneDetections to layer `aircraft` (polygons in the first raster's CRS); return out_path."""
    check_output_path(out_path, overwrite)
    srs = output_srs(results)
    folder = os.path.dirname(os.path.abspath(out_path))
    fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(out_path)}.", suffix=".tmp.gpkg", dir=folder)
    os.close(fd)
    os.unlink(tmp_path)  # OGR must create the file itself
    try:
        _write(results, tmp_path, srs)
        os.replace(tmp_path, out_path)
    except OSError as exc:
        raise OutputError(f"cannot write {out_path}: {exc}") from exc
    except RuntimeError as exc:  # OGR with exceptions enabled
        raise OutputError(f"cannot write {out_path}: {str(exc).strip()}") from exc
    finally:
        for leftover in (tmp_path, tmp_path + "-wal", tmp_path + "-shm", tmp_path + "-journal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return out_path


def _write(results: Sequence, path: str, srs: osr.SpatialReference | None) -> None:
    """The OGR part: one layer, one transaction, polygons reprojected when rasters differ in CRS."""
    with _ogr_exceptions():
        dataset = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        layer = None
        try:
            layer = dataset.CreateLayer(
                LAYER_NAME, srs=srs, geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=YES"]
            )
            for name, kind in FIELDS:
                layer.CreateField(ogr.FieldDefn(name, kind))
            definition = layer.GetLayerDefn()
            layer.StartTransaction()
            for result in results:
                to_layer = _transform_to(result.crs_wkt, srs)
                for ring_map, score, patch_score, label in zip(
                    result.rings_map, result.scores, result.patch_scores, result.labels, strict=True
                ):
                    feature = ogr.Feature(definition)
                    feature.SetGeometry(_polygon(ring_map, to_layer))
                    feature.SetField("score", float(score))
                    feature.SetField("patch_score", float(patch_score))
                    feature.SetField("label", str(label))
                    feature.SetField("source", result.source)
                    layer.CreateFeature(feature)
            layer.CommitTransaction()
        finally:
            layer = dataset = None  # closes and flushes the file before the rename


def _polygon(ring_map, to_layer: osr.CoordinateTransformation | None) -> ogr.Geometry:
    """A closed ring (5, 2) -> OGR polygon, reprojected when needed."""
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ring_map:
        ring.AddPoint_2D(float(x), float(y))
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    if to_layer is not None:
        polygon.Transform(to_layer)
    return polygon


def _srs(wkt: str) -> osr.SpatialReference:
    """Traditional GIS axis order (x = easting / longitude), as rasterio's transforms use."""
    with _ogr_exceptions():
        srs = osr.SpatialReference()
        srs.ImportFromWkt(wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _transform_to(wkt: str | None, srs: osr.SpatialReference | None) -> osr.CoordinateTransformation | None:
    """None when the raster already is in the layer's CRS."""
    if wkt is None or srs is None:
        return None
    source = _srs(wkt)
    if source.IsSame(srs):
        return None
    return osr.CoordinateTransformation(source, srs)


@contextmanager
def _ogr_exceptions():
    """OGR/OSR errors as exceptions here only: QGIS and other plugins share the module-wide switch."""
    previous = ogr.GetUseExceptions(), osr.GetUseExceptions()
    ogr.UseExceptions()
    osr.UseExceptions()
    try:
        yield
    finally:
        if not previous[1]:  # GDAL keeps a stack of handlers: undo in reverse order
            osr.DontUseExceptions()
        if not previous[0]:
            ogr.DontUseExceptions()
