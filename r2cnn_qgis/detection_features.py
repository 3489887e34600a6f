"""SceneDetections (engine, numpy) -> QGIS features: the only place the result schema is spelled out."""
from __future__ import annotations

from collections.abc import Iterator

from qgis.core import QgsFeature, QgsField, QgsFields, QgsGeometry, QgsPointXY
from qgis.PyQt.QtCore import QVariant

SCORE_FIELD = "score"
PATCH_SCORE_FIELD = "patch_score"
LABEL_FIELD = "label"
SOURCE_FIELD = "source"


def detection_fields() -> QgsFields:
    """score: detector confidence; patch_score: the gate's confidence for the patch; label; source raster."""
    fields = QgsFields()
    fields.append(QgsField(SCORE_FIELD, QVariant.Double, "double", 10, 4))
    fields.append(QgsField(PATCH_SCORE_FIELD, QVariant.Double, "double", 10, 4))
    fields.append(QgsField(LABEL_FIELD, QVariant.String, "string", 32))
    fields.append(QgsField(SOURCE_FIELD, QVariant.String, "string", 254))
    return fields


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
