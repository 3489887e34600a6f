"""Reference boxes from any OGR vector over any GDAL raster: features reprojected to the raster's CRS
(osr.CoordinateTransformation), each polygon's envelope taken in the raster's pixels, an optional class filter.
Also reads an existing detection layer the same way (its score field as a value), so both sides match alike."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from affine import Affine

from engine.datasets.airbus import DatasetError
from engine.datasets.labelled import LabelledRaster, LabelledSet
from engine.datasets.reference_geometry import box_px, count_notes, polygon_parts
from engine.errors import first_line

# As engine.pipeline.scene.PIXEL_SPACE_TRANSFORM (a test keeps them equal): QGIS draws an ungeoreferenced
# raster with a (1, -1) pixel size, so polygons digitised over it have those coordinates.
PIXEL_SPACE_TRANSFORM = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 0.0)
MAX_VALUES_SHOWN = 8


@dataclass(frozen=True)
class RasterFrame:
    """What turns map coordinates into a raster's pixels: its size, affine and CRS (None: pixel space)."""

    path: str
    width_px: int
    height_px: int
    transform: Affine
    crs_wkt: str | None


@dataclass(frozen=True, eq=False)
class VectorBoxes:
    """Features of one layer as boxes in one raster's pixels."""

    boxes_raster_px: np.ndarray  # (B, 4)
    ids: np.ndarray  # (B,) feature ids
    values: np.ndarray  # (B,) the value field (scores), nan without one
    notes: tuple[str, ...]
    layer_name: str


def raster_frame(path: str) -> RasterFrame:
    """Open the raster's header only (GDAL through rasterio), with the pipeline's georeference rule."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    if "://" not in path and not path.startswith("/vsi") and not os.path.exists(path):
        raise DatasetError(f"raster not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                georeferenced = ds.crs is not None and not ds.transform.is_identity
                transform = ds.transform if not ds.transform.is_identity else PIXEL_SPACE_TRANSFORM
                return RasterFrame(path, ds.width, ds.height, transform, ds.crs.to_wkt() if georeferenced else None)
    except RasterioIOError as exc:
        raise DatasetError(f"{path} is not a raster GDAL can read ({first_line(exc, 160)})") from exc


def ground_resolution(frame: RasterFrame, gsd_m: float | None) -> float | None:
    """--image-gsd for a raster without georeference (None for one that has its own); a labelled image whose
    pixel size nobody knows is an error: the model's own resolution would be a silent guess."""
    if frame.crs_wkt is not None:
        return None
    if gsd_m is None and frame.transform == PIXEL_SPACE_TRANSFORM:
        raise DatasetError(f"{frame.path} has no georeference, so its ground resolution is unknown: give "
                           "--image-gsd METRES (the ground size of one pixel)")
    return gsd_m


def split_layer(spec: str) -> tuple[str, str | None]:
    """'file.gpkg|layername=refs' (QGIS's source form) -> (file, layer name); no layer part -> None."""
    path, _, options = spec.partition("|")
    layer = None
    for option in options.split("|") if options else ():
        key, _, value = option.partition("=")
        if key.strip().lower() == "layername":
            layer = value
    return path, layer


def read_pairs(
    pairs: Sequence[tuple[str, str]], class_field: str | None = None, class_values: Sequence[str] = (),
    gsd_m: float | None = None,
) -> LabelledSet:
    """Each (raster, vector) pair -> a LabelledRaster with the vector's polygons as boxes in raster px
    (gsd_m: the ground resolution of rasters without georeference)."""
    items = []
    for raster, vector in pairs:
        frame = raster_frame(raster)
        found = read_vector_boxes(vector, frame, class_field=class_field, class_values=class_values)
        notes = list(found.notes)
        if not len(found.ids):
            notes.append(
                f"{found.layer_name}: no reference polygons over {os.path.basename(raster)}; "
                "every detection there counts as a false positive"
            )
        gsd = ground_resolution(frame, gsd_m)
        items.append(LabelledRaster(raster, found.boxes_raster_px, found.ids, gsd_m=gsd, reference=vector,
                                    notes=tuple(notes)))
    names = ", ".join(f"{os.path.basename(r)} = {os.path.basename(split_layer(v)[0])}" for r, v in pairs)
    return LabelledSet(tuple(items), f"{len(items)} raster(s) with reference layers ({names})")


def read_vector_boxes(
    spec: str,
    frame: RasterFrame,
    class_field: str | None = None,
    class_values: Sequence[str] = (),
    value_field: str | None = None,
    role: str = "reference layer",
) -> VectorBoxes:
    """The layer's features as boxes in frame's pixels: reprojected, envelopes, clipped to the raster.

    Features wholly outside the raster are left out (a note says how many); value_field (a detection
    layer's score) must exist when named; a named class field must exist (DatasetError listing the fields).
    """
    from osgeo import ogr

    path, layer_name = split_layer(spec)
    if not os.path.exists(path) and not path.startswith("/vsi"):
        raise DatasetError(f"{role} not found: {path}")
    with _ogr_errors(f"{role} {path}"):
        dataset = ogr.Open(path, 0)
        if dataset is None:
            raise DatasetError(f"{path} is not a vector file OGR can read")
        layer, notes = _pick_layer(dataset, path, layer_name)
        definition = layer.GetLayerDefn()
        fields = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
        name = _layer_label(path, layer.GetName())
        class_index = _field_index(fields, class_field, name, role)
        value_index = _field_index(fields, value_field, name, role)
        layer_srs = _defined(layer.GetSpatialRef())
        to_raster, crs_note = _to_raster_crs(layer_srs, frame, name)
        notes += [crs_note] if crs_note else []
        wanted = {str(v) for v in class_values}
        boxes, ids, values, seen_classes = [], [], [], set()
        counts = dict.fromkeys(("empty", "not polygon", "not finite", "no area", "outside", "other class",
                                "clipped", "parts"), 0)
        inverse = ~frame.transform
        for feature in layer:
            if class_index is not None:
                label = feature.GetFieldAsString(class_index)
                seen_classes.add(label)
                if wanted and label not in wanted:
                    counts["other class"] += 1
                    continue
            geometry = feature.GetGeometryRef()
            if geometry is None or geometry.IsEmpty():
                counts["empty"] += 1
                continue
            parts = polygon_parts(geometry)
            if parts is None:
                counts["not polygon"] += 1
                continue
            counts["parts"] += len(parts) - 1  # a multi-part feature: one aircraft per part
            for part in parts:
                if to_raster is not None:
                    part.Transform(to_raster)
                box, kind = box_px(part.GetEnvelope(), inverse, frame)
                if kind:
                    counts[kind] += 1
                if box is None:
                    continue
                boxes.append(box)
                ids.append(feature.GetFID())
                values.append(feature.GetFieldAsDouble(value_index) if value_index is not None else np.nan)
    if not boxes and counts["outside"] and layer_srs is None and frame.crs_wkt is not None:
        raise DatasetError(f"{role} {name} has no CRS and none of its coordinates fall on "
                           f"{os.path.basename(frame.path)} taken as the raster's CRS: give the layer its CRS")
    notes += count_notes(name, os.path.basename(frame.path), counts, role)
    if wanted and seen_classes and not wanted & seen_classes:  # as a COCO category that is not there: an error
        shown = ", ".join(sorted(seen_classes)[:MAX_VALUES_SHOWN])
        raise DatasetError(f"{role} {name}: no feature has {class_field} = {', '.join(sorted(wanted))} "
                           f"(values present: {shown}); every detection would count as a false positive")
    return VectorBoxes(
        np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(ids, np.int64), np.asarray(values, np.float64),
        tuple(notes), name,
    )


def _layer_label(path: str, layer: str) -> str:
    """How notes and errors name a layer: its file, and the layer when the file name does not say it."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(path) if layer == stem else f"{os.path.basename(path)} ({layer})"


def _pick_layer(dataset, path: str, layer_name: str | None):
    """The named layer, or the first one (with a note when there are several)."""
    names = [dataset.GetLayerByIndex(i).GetName() for i in range(dataset.GetLayerCount())]
    if not names:
        raise DatasetError(f"{path} holds no vector layer")
    if layer_name is not None:
        if layer_name not in names:
            raise DatasetError(f"{path} has no layer {layer_name!r} (layers: {', '.join(names)})")
        return dataset.GetLayerByName(layer_name), []
    notes = [f"{path}: using its first layer {names[0]!r} of {len(names)} (name another as {path}|layername=NAME)"]
    return dataset.GetLayerByIndex(0), notes if len(names) > 1 else []


def _field_index(fields: list[str], name: str | None, layer: str, role: str) -> int | None:
    """Index of a named field; DatasetError naming the fields there are."""
    if name is None:
        return None
    if name not in fields:
        raise DatasetError(f"{role} {layer} has no field {name!r} (fields: {', '.join(fields) or 'none'})")
    return fields.index(name)


def _to_raster_crs(srs, frame: RasterFrame, layer: str):
    """CoordinateTransformation from the layer's CRS to the raster's (None when the same), and a note."""
    from osgeo import osr

    if frame.crs_wkt is None:
        note = f"{layer}: the raster has no CRS; its coordinates are taken as the raster's pixel space" if srs else None
        return None, note
    if srs is None:
        return None, f"{layer} has no CRS; assumed to be the raster's"
    target = osr.SpatialReference()
    target.ImportFromWkt(frame.crs_wkt)
    for ref in (srs, target):
        ref.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if srs.IsSame(target):
        return None, None
    note = f"{layer}: reprojected from {_crs_name(srs)} to {_crs_name(target)}"
    return osr.CoordinateTransformation(srs, target), note


def _defined(srs):
    """None for no CRS and for GeoPackage's stand-ins for none (srs_id 0 / -1: 'Undefined geographic SRS')."""
    if srs is None or (srs.GetName() or "").lower().startswith("undefined"):
        return None
    return srs


def _crs_name(srs) -> str:
    """EPSG:xxxx when known, else the CRS's name."""
    code = srs.GetAuthorityCode(None)
    return f"{srs.GetAuthorityName(None)}:{code}" if code else (srs.GetName() or "its CRS")


@contextmanager
def _ogr_errors(what: str):
    """OGR/OSR errors as exceptions here only (QGIS shares the module-wide switch), each a DatasetError."""
    from osgeo import gdal, ogr, osr

    previous = ogr.GetUseExceptions(), osr.GetUseExceptions()
    ogr.UseExceptions()
    osr.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        yield
    except RuntimeError as exc:
        raise DatasetError(f"cannot read {what}: {str(exc).strip() or 'OGR gave no reason'}") from exc
    finally:
        gdal.PopErrorHandler()
        if not previous[1]:
            osr.DontUseExceptions()
        if not previous[0]:
            ogr.DontUseExceptions()
