"""The algorithm inside a graphical model (tests/data/detect_aircraft.model3) and in batch mode."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import (  # noqa: E402
    AIRCRAFT_PX,
    SCENE_CRS,
    assert_same_boxes,
    ensure_provider,
    feature_boxes,
    write_scene,
    write_test_model,
)

MODEL3 = Path(__file__).resolve().parents[1] / "data" / "detect_aircraft.model3"


@pytest.fixture(scope="module")
def blob_model(tmp_path_factory):
    return write_test_model(tmp_path_factory.mktemp("model") / "blob.onnx")


def test_graphical_model_chains_detection_and_centroids(qgis_app, blob_model, tmp_path):
    import processing
    from qgis.core import QgsProcessingModelAlgorithm

    ensure_provider()
    truth = write_scene(tmp_path / "scene.tif")
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL3))
    child_ids = sorted(child.algorithmId() for child in model.childAlgorithms().values())
    assert child_ids == ["native:centroids", "r2cnn:detectaircraft"]

    result = processing.run(model, {
        "raster": str(tmp_path / "scene.tif"),
        "model": str(blob_model),
        "min_score": 0.3,
        "detect:Aircraft boxes": "TEMPORARY_OUTPUT",
        "centroids:Aircraft centres": "TEMPORARY_OUTPUT",
    })

    boxes, centres = result["detect:Aircraft boxes"], result["centroids:Aircraft centres"]
    assert_same_boxes(feature_boxes(boxes), truth)
    assert centres.crs().authid() == SCENE_CRS
    points = [f.geometry().asPoint() for f in centres.getFeatures()]
    found = [(p.x(), p.y()) * 2 for p in points]  # a point as a zero-size box
    expected = [((x0 + x1) / 2, (y0 + y1) / 2) * 2 for x0, y0, x1, y1 in truth]
    assert_same_boxes(found, expected)
    assert [f["score"] for f in centres.getFeatures()] == pytest.approx([0.9] * len(truth))  # attributes flow


def test_saved_model_validates_without_issues(qgis_app):
    """A model saved before PRECISION / RUNTIME existed: the modeler's own check finds nothing to warn about."""
    from qgis.core import QgsProcessingModelAlgorithm

    ensure_provider()
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL3))
    ok, issues = model.validate()
    assert ok, issues
    assert issues == []


def test_batch_over_two_rasters_gives_two_layers(qgis_app, blob_model, tmp_path):
    """As BatchAlgorithmDialog does: one algorithm instance, a fresh context per row, one output per row."""
    from processing.tools import dataobjects
    from qgis.core import QgsApplication, QgsProcessingFeedback, QgsVectorLayer

    ensure_provider()
    rows = {
        "first.tif": write_scene(tmp_path / "first.tif"),
        "second.tif": write_scene(tmp_path / "second.tif", aircraft_px=AIRCRAFT_PX[:2], seed=1),
    }
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("r2cnn:detectaircraft")
    feedback = QgsProcessingFeedback()
    layers = {}
    for name in rows:
        out = tmp_path / f"aircraft_{name}.gpkg"
        parameters = {"INPUT": str(tmp_path / name), "MODEL": str(blob_model), "OUTPUT": str(out)}
        context = dataobjects.createContext(feedback)
        results, ok = algorithm.run(parameters, context, feedback)
        assert ok, feedback.textLog()
        layers[name] = QgsVectorLayer(results["OUTPUT"], name, "ogr")

    assert len({layer.source() for layer in layers.values()}) == 2
    for name, truth in rows.items():
        assert layers[name].isValid()
        assert_same_boxes(feature_boxes(layers[name]), truth)
        assert {f["source"] for f in layers[name].getFeatures()} == {name}
