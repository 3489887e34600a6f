"""The catalogue GeoPackage of an archive run: layer 'scenes', one footprint per scene with its record, and
optionally layer 'aircraft' with every detection; always rewritten whole (temporary + rename) through OGR."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from osgeo import gdal, ogr, osr

from engine.archive.footprint import CATALOGUE_EPSG
from engine.archive.records import STATUSES, SceneRecord
from engine.atomic_output import StagedOutput
from engine.errors import OutputError
from engine.file_checks import disk_full_note
from engine.outputs.fields import DETECTION_LAYER

CATALOGUE_NAME = "catalogue.gpkg"
SCENES_LAYER = "scenes"
# (field, OGR type, SceneRecord attribute): the record round-trips through the file (resume reads it back).
FIELDS = (
    ("path", ogr.OFTString),
    ("status", ogr.OFTString),
    ("detections", ogr.OFTInteger),
    ("seconds", ogr.OFTReal),
    ("error", ogr.OFTString),
    ("model_hash", ogr.OFTString),
    ("settings_hash", ogr.OFTString),
    ("input_size", ogr.OFTInteger64),
    ("input_mtime_ns", ogr.OFTInteger64),
    ("output", ogr.OFTString),
    ("worker", ogr.OFTString),
    ("finished", ogr.OFTString),
)
_CASTS = {ogr.OFTString: str, ogr.OFTInteger: int, ogr.OFTInteger64: int, ogr.OFTReal: float}


def write_catalogue(path: str, records: Sequence[SceneRecord], detection_files: Sequence[str] = ()) -> None:
    """Stage the catalogue beside path and publish it by one rename: readers never see half of it."""
    staged = StagedOutput(path, ".gpkg", overwrite=True)
    try:
        with _ogr_errors(path):
            _write_scenes(staged.tmp, records)
            for source in detection_files:
                _append_detections(staged.tmp, source)
        staged.publish()
    finally:
        staged.discard()


def read_catalogue(path: str) -> dict[str, SceneRecord]:
    """path -> record of an earlier run's catalogue ({} when there is none); resuming compares against it."""
    if not os.path.exists(path):
        return {}
    with _ogr_errors(path):
        dataset = ogr.Open(path)
        layer = dataset.GetLayerByName(SCENES_LAYER) if dataset is not None else None
        if layer is None or not {name for name, _ in FIELDS} <= _field_names(layer):
            raise OutputError(f"{path} is not an r2cnn archive catalogue; move it away or pick another output folder")
        records = {}
        for feature in layer:
            values = {name: _CASTS[kind](feature.GetField(name) or kind_default(kind)) for name, kind in FIELDS}
            geometry = feature.GetGeometryRef()
            values["footprint_wkt"] = geometry.ExportToWkt() if geometry is not None else None
            if values["status"] in STATUSES:
                records[values["path"]] = SceneRecord(**values)
        dataset = None
    return records


def kind_default(kind: int):
    """The value an empty field reads as."""
    return "" if kind == ogr.OFTString else 0


def _field_names(layer) -> set[str]:
    definition = layer.GetLayerDefn()
    return {definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())}


def _write_scenes(path: str, records: Sequence[SceneRecord]) -> None:
    """Layer 'scenes' in a new GeoPackage, one transaction."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(CATALOGUE_EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    try:
        layer = dataset.CreateLayer(SCENES_LAYER, srs=srs, geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=YES"])
        for name, kind in FIELDS:
            layer.CreateField(ogr.FieldDefn(name, kind))
        definition = layer.GetLayerDefn()
        layer.StartTransaction()
        for record in records:
            feature = ogr.Feature(definition)
            for name, _kind in FIELDS:
                feature.SetField(name, getattr(record, name))
            if record.footprint_wkt:
                feature.SetGeometry(ogr.CreateGeometryFromWkt(record.footprint_wkt))
            layer.CreateFeature(feature)
        layer.CommitTransaction()
    finally:  # closed now, even when a signal or a full disk interrupts: never after its file is discarded or published
        layer = feature = definition = None
        dataset.Destroy()
        dataset = None
    _check_scenes(path, len(records))


def _check_scenes(path: str, count: int) -> None:
    """Read back before publishing: the layer holds every record (a full disk can lose the last pages)."""
    dataset = ogr.Open(path, 0)
    layer = dataset.GetLayerByName(SCENES_LAYER) if dataset is not None else None
    found = layer.GetFeatureCount() if layer is not None else -1
    layer = dataset = None
    if found != count:
        raise OutputError(f"cannot write the catalogue {path}: read back {found} of {count} scenes")


def _append_detections(catalogue: str, scene_gpkg: str) -> None:
    """A per-scene GeoPackage's aircraft, reprojected to EPSG:4326, appended to the catalogue's 'aircraft'."""
    options = gdal.VectorTranslateOptions(
        accessMode="append", layers=[DETECTION_LAYER], layerName=DETECTION_LAYER,
        dstSRS=f"EPSG:{CATALOGUE_EPSG}", geometryType="POLYGON",
    )
    if gdal.VectorTranslate(catalogue, scene_gpkg, options=options) is None:
        raise OutputError(f"cannot copy the detections of {scene_gpkg} into {catalogue}")


@contextmanager
def _ogr_errors(path: str) -> Iterator[None]:
    """OGR / GDAL errors as one OutputError naming the catalogue (exceptions switched on here only)."""
    previous = (gdal.GetUseExceptions(), ogr.GetUseExceptions(), osr.GetUseExceptions())
    gdal.UseExceptions()
    ogr.UseExceptions()
    osr.UseExceptions()
    try:
        yield
    except RuntimeError as exc:
        detail = "; ".join(filter(None, (str(exc).strip(), disk_full_note(path)))) or "GDAL gave no reason"
        raise OutputError(f"cannot use the catalogue {path}: {detail}") from exc
    finally:
        for module, was_on in zip((osr, ogr, gdal), reversed(previous), strict=True):
            if not was_on:
                module.DontUseExceptions()
