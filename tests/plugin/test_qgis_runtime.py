"""The headless QGIS runtime itself works (independent of our plugin): a real Processing algorithm."""
from __future__ import annotations

import pytest


def test_native_buffer_runs_headless(qgis_app):
    """processing.run on a memory layer: if this fails, every plugin test would fail for the same reason."""
    import processing
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:32631", "points", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(500000.0, 4000000.0)))
    assert layer.dataProvider().addFeatures([feature])

    result = processing.run(
        "native:buffer",
        {"INPUT": layer, "DISTANCE": 10.0, "SEGMENTS": 16, "OUTPUT": "memory:"},
    )

    buffered = list(result["OUTPUT"].getFeatures())
    assert len(buffered) == 1
    area_m2 = buffered[0].geometry().area()
    assert area_m2 == pytest.approx(3.14159 * 10.0**2, rel=0.01)
