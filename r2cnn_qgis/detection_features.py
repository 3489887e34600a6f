"""SceneDetections (engine, numpy) -> QGIS features, with the engine's schemas (engine.outputs.fields) as QGIS
fields: the detection layer here, the error layers in evaluate_algorithm.py."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from qgis.core import QgsFeature, QgsField, QgsFields, QgsGeometry, QgsPointXY

from .dependencies import ensure_engine_importable
from .qt_compat import field_type

ensure_engine_importable()

from engine.ops.aircraft_size import SIZE_CLASS_NAMES  # noqa: E402
from engine.outputs.detection_rows import detection_rows  # noqa: E402
from engine.outputs.fields import (  # noqa: E402
    DETECTION_FIELDS,
    DETECTION_LAYER,
    INTEGER64,
    REAL,
    SCORE,
    SIZE_CLASS,
    STRING,
)

SCORE_FIELD = SCORE  # what the slider, the filter and the colour classes read
SIZE_CLASS_FIELD = SIZE_CLASS  # what the dock counts and filters by
SIZE_CLASSES = SIZE_CLASS_NAMES  # smallest first: the dock's order
__all__ = ["DETECTION_LAYER", "SCORE_FIELD", "detection_fields", "qgis_fields", "scene_features"]
_QGIS_TYPES = {  # engine kind -> (QMetaType name, QGIS type name)
    REAL: ("Double", "double"),
    INTEGER64: ("LongLong", ""),
    STRING: ("QString", "string"),
}


def qgis_fields(schema: Sequence) -> QgsFields:
    """An engine schema (engine.outputs.fields) as QGIS fields, with its display lengths."""
    fields = QgsFields()
    for field in schema:
        kind, type_name = _QGIS_TYPES[field.kind]
        fields.append(QgsField(field.name, field_type(kind), type_name, field.length, field.precision))
    return fields


def detection_fields() -> QgsFields:
    """score, patch_score (the gate), label, source raster, length_m / width_m / size_class (engine.outputs.fields)."""
    return qgis_fields(DETECTION_FIELDS)


def scene_features(scene, fields: QgsFields) -> Iterator[QgsFeature]:
    """One polygon feature per detection, built from the engine's closed rings in the raster CRS."""
    for ring_map, values in detection_rows(scene):
        feature = QgsFeature(fields)
        points = [QgsPointXY(float(x_map), float(y_map)) for x_map, y_map in ring_map]
        feature.setGeometry(QgsGeometry.fromPolygonXY([points]))
        feature.setAttributes(list(values))  # None: NULL
        yield feature
