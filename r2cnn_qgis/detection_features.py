"""SceneDetections (engine, numpy) -> QGIS features, with the engine's schemas (engine.outputs.fields) as QGIS
fields: the detection layer here, the error layers in evaluate_algorithm.py."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from qgis.core import QgsFeature, QgsField, QgsFields, QgsGeometry, QgsPointXY

from .dependencies import ensure_engine_importable
from .qt_compat import field_type

ensure_engine_importable()

from engine.outputs.fields import DETECTION_FIELDS, DETECTION_LAYER, INTEGER64, REAL, SCORE, STRING  # noqa: E402

SCORE_FIELD = SCORE  # what the slider, the filter and the colour classes read
SIZE_CLASS_FIELD = "size_class"
SIZE_CLASSES = ("light", "business", "narrow body", "wide body")  # smallest first: the dock's order
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
    """score: detector confidence; patch_score: the gate's confidence for the patch; label; source raster."""
    return qgis_fields(DETECTION_FIELDS)


def scene_features(scene, fields: QgsFields) -> Iterator[QgsFeature]:
    """One polygon feature per detection, built from the engine's closed rings in the raster CRS."""
    for ring_map, score, patch_score, label in zip(
        scene.rings_map, scene.scores, scene.patch_scores, scene.labels, strict=True
    ):
        feature = QgsFeature(fields)
        points = [QgsPointXY(float(x_map), float(y_map)) for x_map, y_map in ring_map]
        feature.setGeometry(QgsGeometry.fromPolygonXY([points]))
        feature.setAttributes([float(score), float(patch_score), str(label), str(scene.source)])
        yield feature
