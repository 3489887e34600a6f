"""Aircraft polygons through OGR, in the format the output's extension names (GeoPackage, Shapefile,
GeoJSON, FlatGeobuf, CSV with WKT), staged beside the target and published whole (engine.atomic_output)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from osgeo import gdal, ogr, osr

from engine.atomic_output import StagedOutput
from engine.atomic_output import check_output_path as check_file_path
from engine.errors import OutputError
from engine.file_checks import disk_full_note
from engine.outputs.detection_rows import detection_rows
from engine.outputs.fields import DETECTION_FIELDS, DETECTION_LAYER, INTEGER64, REAL, STRING, Field

OGR_KINDS = {REAL: ogr.OFTReal, INTEGER64: ogr.OFTInteger64, STRING: ogr.OFTString}
UNDEFINED_CARTESIAN_SRS_ID = -1  # GeoPackage: "undefined Cartesian"; GDAL's default 0 reads "Undefined geographic"


@dataclass(frozen=True)
class VectorFormat:
    """An OGR driver and what it needs: layer options, the files it writes beside the main one."""

    name: str
    driver: str
    layer_options: tuple[str, ...] = ()
    sidecars: tuple[str, ...] = ()
    keeps_crs: bool = True


FORMATS = {
    ".gpkg": VectorFormat("GeoPackage", "GPKG", ("SPATIAL_INDEX=YES",)),
    ".shp": VectorFormat("Shapefile", "ESRI Shapefile", (), (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")),
    ".geojson": VectorFormat("GeoJSON", "GeoJSON"),
    ".json": VectorFormat("GeoJSON", "GeoJSON"),
    ".fgb": VectorFormat("FlatGeobuf", "FlatGeobuf"),
    ".csv": VectorFormat("CSV, WKT geometry", "CSV", ("GEOMETRY=AS_WKT", "CREATE_CSVT=YES"), (".csvt",), False),
}


def vector_format(out_path: str) -> VectorFormat:
    """The format the extension names; anything else is refused with the list (never a GeoPackage in disguise)."""
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in FORMATS:
        known = ", ".join(f"{e} ({f.name})" for e, f in FORMATS.items())
        raise OutputError(f"{out_path}: unknown output format {ext or '(no extension)'!r}; supported: {known}")
    return FORMATS[ext]


def check_output_path(out_path: str, overwrite: bool, protect: Sequence[str] = ()) -> VectorFormat:
    """Fail before any work: unknown format, an input as output, existing files without overwrite, no folder."""
    fmt = vector_format(out_path)
    check_file_path(out_path, overwrite, protect)
    stem = os.path.splitext(out_path)[0]
    for ext in fmt.sidecars:
        check_file_path(stem + ext, overwrite, protect)
    return fmt


def crs_note(out_path: str, results: Sequence) -> str | None:
    """What the user should know when the format cannot keep the rasters' CRS."""
    if vector_format(out_path).keeps_crs or not any(r.crs_wkt for r in results):
        return None
    srs = output_srs(results)
    name = srs.GetName() if srs is not None else "the rasters' CRS"
    return f"{os.path.basename(out_path)}: CSV keeps no CRS; the polygons are in {name}"


def output_srs(results: Sequence) -> osr.SpatialReference | None:
    """The layer's CRS: the first georeferenced raster's; mixing pixel-space and georeferenced is refused."""
    wkts = [r.crs_wkt for r in results]
    if any(w is None for w in wkts) and any(w is not None for w in wkts):
        raise OutputError("cannot put georeferenced and non-georeferenced rasters in one GeoPackage layer")
    if not wkts or wkts[0] is None:
        return None
    return _srs(wkts[0])


def stage_detections(
    results: Sequence, out_path: str, overwrite: bool = False, protect: Sequence[str] = ()
) -> StagedOutput:
    """Write every SceneDetections to a temporary beside out_path (publish() makes it out_path)."""
    fmt = check_output_path(out_path, overwrite, protect)
    srs = output_srs(results)
    staged = StagedOutput(out_path, os.path.splitext(out_path)[1], overwrite, protect, fmt.sidecars)
    try:
        _write(results, staged.tmp, srs, fmt, out_path)
        check_closed_file(staged.tmp, fmt, sum(len(r.scores) for r in results), out_path)
    except BaseException:
        staged.discard()
        raise
    return staged


def write_detections(results: Sequence, out_path: str, overwrite: bool = False, protect: Sequence[str] = ()) -> str:
    """Stage and publish in one go; return out_path."""
    with stage_detections(results, out_path, overwrite, protect) as staged:
        staged.publish()
    return out_path


def _write(results: Sequence, path: str, srs: osr.SpatialReference | None, fmt: VectorFormat, shown: str) -> None:
    """The OGR part: one layer, one transaction where the driver has them, polygons reprojected to srs."""
    with _ogr_errors(shown):
        dataset = ogr.GetDriverByName(fmt.driver).CreateDataSource(path)
        layer = None
        try:
            layer = dataset.CreateLayer(
                DETECTION_LAYER, srs=srs, geom_type=ogr.wkbPolygon, options=list(fmt.layer_options)
            )
            if srs is None and fmt.driver == "GPKG":
                mark_undefined_cartesian(dataset, (DETECTION_LAYER,))
            add_fields(layer, DETECTION_FIELDS)
            definition = layer.GetLayerDefn()
            layer.StartTransaction()
            for result in results:
                to_layer = transform_to(result.crs_wkt, srs)
                for ring_map, values in detection_rows(result):
                    feature = ogr.Feature(definition)
                    feature.SetGeometry(ring_polygon(ring_map, to_layer))
                    for index, value in enumerate(values):
                        if value is None:
                            feature.SetFieldNull(index)
                        else:
                            feature.SetField(index, value)
                    layer.CreateFeature(feature)
            layer.CommitTransaction()
        finally:
            layer = None
            if dataset is not None:  # closed here, not when the last reference goes: GeoPackage's index and
                dataset.Destroy()  # extent are written at close, which must come before the rename that publishes
            dataset = None


def check_closed_file(path: str, fmt: VectorFormat, count: int, shown: str) -> None:
    """The staged file, reopened read-only, holds the layer and its `count` features, and a GeoPackage its
    extent and R-tree: a file is published only once it is whole (OutputError otherwise)."""
    with _ogr_errors(shown):
        dataset = ogr.Open(path, 0)
        layer = None if dataset is None else dataset.GetLayerByName(DETECTION_LAYER) or (
            dataset.GetLayer(0) if dataset.GetLayerCount() == 1 else None)  # Shapefile, CSV: named after the file
        found = layer.GetFeatureCount() if layer is not None else -1
        complete = found == count
        if complete and fmt.driver == "GPKG":
            rtree = f"SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'rtree_{DETECTION_LAYER}_%'"
            tables = dataset.ExecuteSQL(rtree)
            complete = tables.GetNextFeature().GetField(0) > 0
            dataset.ReleaseResultSet(tables)
        layer = dataset = None
    if not complete:
        raise OutputError(f"cannot write {shown}: the file read back is incomplete ({found} of {count} features)")


def add_fields(layer, fields: Sequence[Field]) -> None:
    """The schema's attributes on an OGR layer, in order (features set them by index)."""
    for field in fields:
        layer.CreateField(ogr.FieldDefn(field.name, OGR_KINDS[field.kind]))


def mark_undefined_cartesian(dataset, layer_names: Sequence[str]) -> None:
    """Pixel space is not geographic: point the GeoPackage layers at its undefined Cartesian SRS."""
    names = ", ".join(f"'{name}'" for name in layer_names)
    for table in ("gpkg_geometry_columns", "gpkg_contents"):
        dataset.ExecuteSQL(f"UPDATE {table} SET srs_id = {UNDEFINED_CARTESIAN_SRS_ID} WHERE table_name IN ({names})")


def ring_polygon(ring_map, to_layer: osr.CoordinateTransformation | None) -> ogr.Geometry:
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
    with _ogr_errors("the CRS"):
        srs = osr.SpatialReference()
        srs.ImportFromWkt(wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def transform_to(wkt: str | None, srs: osr.SpatialReference | None) -> osr.CoordinateTransformation | None:
    """None when the raster already is in the layer's CRS."""
    if wkt is None or srs is None:
        return None
    source = _srs(wkt)
    if source.IsSame(srs):
        return None
    return osr.CoordinateTransformation(source, srs)


@contextmanager
def _ogr_errors(what: str):
    """OGR/OSR errors as exceptions here only (QGIS shares the module-wide switch), each an OutputError
    with GDAL's own words; its warnings (a Shapefile's shortened field name) are not printed."""
    previous = ogr.GetUseExceptions(), osr.GetUseExceptions()
    messages: list[str] = []
    ogr.UseExceptions()
    osr.UseExceptions()
    gdal.PushErrorHandler(lambda level, _no, message: messages.append(message) if level >= gdal.CE_Failure else None)
    try:
        yield
    except (RuntimeError, OSError) as exc:
        detail = str(exc).strip() or (messages[-1].strip() if messages else "") or _no_reason(what)
        full = disk_full_note(what) if os.sep in what else None
        detail = f"{detail}; {full}" if full and full not in detail else detail
        raise OutputError(f"cannot write {what}: {detail}") from exc
    finally:
        gdal.PopErrorHandler()
        if not previous[1]:  # GDAL keeps a stack of handlers: undo in reverse order
            osr.DontUseExceptions()
        if not previous[0]:
            ogr.DontUseExceptions()


def _no_reason(path: str) -> str:
    """GDAL said nothing: say how much room the folder has, the usual cause."""
    try:
        stat = os.statvfs(os.path.dirname(os.path.abspath(path)))
        return f"GDAL gave no reason ({stat.f_bavail * stat.f_frsize / 1e6:.1f} MB free in that folder)"
    except OSError:
        return "GDAL gave no reason"
