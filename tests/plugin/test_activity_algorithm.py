"""processing.run("r2cnn:aircraftactivity"): three memory layers of one apron named by date, a sites layer in
another CRS -> the counts per date, what arrived and departed, the three files; an undated layer is logged."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import SCENE_CRS, ensure_provider  # noqa: E402

ALGORITHM = "r2cnn:aircraftactivity"
X0, Y0 = 500000.0, 5000000.0  # UTM 31N, metres
APRON = (X0, Y0, X0 + 600.0, Y0 + 600.0)
A, B, C = (X0 + 50, Y0 + 50), (X0 + 200, Y0 + 300), (X0 + 400, Y0 + 100)


def boxes_layer(name, corners, crs=SCENE_CRS):
    """A memory layer of 40 m squares with a score field."""
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsRectangle, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant

    layer = QgsVectorLayer(f"Polygon?crs={crs}", name, "memory")
    layer.dataProvider().addAttributes([QgsField("score", QVariant.Double), QgsField("name", QVariant.String)])
    layer.updateFields()
    features = []
    for x, y in corners:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(x, y, x + 40, y + 40)))
        feature.setAttributes([0.9, "Apron A"])
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    return layer


def test_three_dated_layers_give_counts_arrivals_and_departures(qgis_app, tmp_path):
    import processing
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsGeometry,
        QgsProject,
        QgsRectangle,
        QgsVectorLayer,
    )

    ensure_provider()
    layers = [boxes_layer("gf1_20260301", [A, B]), boxes_layer("gf1_20260310", [A, B, C]),
              boxes_layer("gf1_20260322", [(A[0] + 3, A[1]), C]), boxes_layer("undated scene", [A])]
    apron = QgsGeometry.fromRect(QgsRectangle(*APRON))
    apron.transform(QgsCoordinateTransform(QgsCoordinateReferenceSystem(SCENE_CRS),
                                           QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance()))
    sites = QgsVectorLayer("Polygon?crs=EPSG:4326&field=name:string", "sites", "memory")
    feature = QgsFeature(sites.fields())
    feature.setGeometry(apron)
    feature.setAttributes(["Apron A"])
    assert sites.dataProvider().addFeatures([feature])
    result = processing.run(ALGORITHM, {"DETECTIONS": layers, "SITES": sites, "NAME_FIELD": "name",
                                        "OUTPUT": str(tmp_path / "activity")})
    with open(result["CSV"], newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["site", "date", "aircraft"], ["Apron A", "2026-03-01", "2"], ["Apron A", "2026-03-10", "3"],
                    ["Apron A", "2026-03-22", "2"]]
    assert (result["SITE_COUNT"], result["ROWS"], result["CHANGES"], result["UNDATED"]) == (1, 3, 2, 1)
    changes = QgsVectorLayer(f"{result['GPKG']}|layername=changes", "changes", "ogr")
    assert sorted((f["change"], f["to_date"].toString("yyyy-MM-dd")) for f in changes.getFeatures()) == [
        ("arrived", "2026-03-10"), ("departed", "2026-03-22")]  # C came, B left; A stayed though 3 m off
    assert Path(result["PNG"]).read_bytes()[:4] == b"\x89PNG"
