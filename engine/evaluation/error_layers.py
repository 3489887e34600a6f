"""The errors on the map: one GeoPackage with the error layers of engine.outputs.fields (true_positive,
false_positive, false_negative; feature_id, score, iou, matched_id, source), boxes in the rasters' CRS,
staged beside the target and published whole (engine.atomic_output)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from osgeo import gdal, ogr

from engine.atomic_output import StagedOutput
from engine.errors import OutputError
from engine.evaluation.box_errors import BoxSet, error_rows
from engine.evaluation.labelled_scoring import LabelledEvaluation
from engine.ops.box_arrays import boxes_to_raster_px
from engine.outputs.fields import ERROR_FIELDS, ERROR_LAYERS
from engine.outputs.vector_writer import add_fields, mark_undefined_cartesian, output_srs, ring_polygon, transform_to
from engine.pipeline.georef import box_rings_map


def stage_error_layers(evaluation: LabelledEvaluation, out_path: str, overwrite: bool = False,
                       protect: Sequence[str] = ()) -> StagedOutput:
    """Write the three layers to a temporary beside out_path (publish() makes it out_path)."""
    frames = [s.frame for s in evaluation.sets]
    if any(f is None for f in frames):
        raise OutputError("error layers need the rasters' georeference")
    srs = output_srs(frames)
    staged = StagedOutput(out_path, ".gpkg", overwrite, protect)
    try:
        _write(evaluation, staged.tmp, srs)
    except BaseException:
        staged.discard()
        raise
    return staged


def _write(evaluation: LabelledEvaluation, path: str, srs) -> None:
    """The OGR part: three layers, one transaction each."""
    previous = ogr.GetUseExceptions()
    ogr.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        layers = {}
        for name in ERROR_LAYERS:
            layer = dataset.CreateLayer(name, srs=srs, geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=YES"])
            add_fields(layer, ERROR_FIELDS)
            layers[name] = layer
        if srs is None:
            mark_undefined_cartesian(dataset, ERROR_LAYERS)
        for name, layer in layers.items():
            layer.StartTransaction()
            for box_set, errors in zip(evaluation.sets, evaluation.errors, strict=True):
                _add(layer, box_set, error_rows(box_set, errors)[name], srs)
            layer.CommitTransaction()
        layers = layer = dataset = None  # closes and flushes before publishing
    except RuntimeError as exc:
        raise OutputError(f"cannot write the error layers: {str(exc).strip() or 'GDAL gave no reason'}") from exc
    finally:
        gdal.PopErrorHandler()
        if not previous:
            ogr.DontUseExceptions()


def _add(layer, box_set: BoxSet, rows: list[tuple], srs) -> None:
    """Rows of one set as polygons in the layer's CRS."""
    if not rows:
        return
    boxes_raster_px = boxes_to_raster_px([row[0] for row in rows], box_set.frame.scale_xy)
    rings = box_rings_map(boxes_raster_px, box_set.frame.transform)
    to_layer = transform_to(box_set.frame.crs_wkt, srs)
    definition = layer.GetLayerDefn()
    for ring_map, (_box, feature_id, score, iou, matched) in zip(rings, rows, strict=True):
        polygon = ring_polygon(ring_map, to_layer)
        feature = ogr.Feature(definition)
        feature.SetGeometry(polygon)
        for index, value in enumerate((feature_id, score, iou, matched, box_set.name)):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                feature.SetFieldNull(index)
            else:
                feature.SetField(index, value)
        layer.CreateFeature(feature)
