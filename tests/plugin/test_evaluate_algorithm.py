"""processing.run("r2cnn:evaluatedetections"): hand-counted TP / FP / FN, a CRS mismatch, a class filter, an
empty reference layer, the HTML report, and the algorithm chained after Detect aircraft in a model."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import (  # noqa: E402
    AIRCRAFT_PX,
    SCENE_CRS,
    box_map,
    ensure_provider,
    write_scene,
    write_test_model,
)

ALGORITHM = "r2cnn:evaluatedetections"
OUTPUTS = ("TRUE_POSITIVES", "FALSE_POSITIVES", "FALSE_NEGATIVES")


def polygon_layer(boxes, crs=SCENE_CRS, scores=None, classes=None):
    """A memory layer of rectangles (map units of crs) with score and cls fields."""
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsRectangle, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant

    layer = QgsVectorLayer(f"Polygon?crs={crs}", "layer", "memory")
    layer.dataProvider().addAttributes([QgsField("score", QVariant.Double), QgsField("cls", QVariant.String)])
    layer.updateFields()
    features = []
    for index, (x0, y0, x1, y1) in enumerate(boxes):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(x0, y0, x1, y1)))
        feature.setAttributes([scores[index] if scores else 1.0, classes[index] if classes else "plane"])
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    return layer


def to_wgs84(boxes):
    """UTM 31N boxes -> EPSG:4326 boxes (their corners reprojected)."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsPointXY,
        QgsProject,
    )

    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem(SCENE_CRS),
                                       QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    out = []
    for x0, y0, x1, y1 in boxes:
        a, b = transform.transform(QgsPointXY(x0, y0)), transform.transform(QgsPointXY(x1, y1))
        out.append((a.x(), a.y(), b.x(), b.y()))
    return out


def _null(value) -> bool:
    from qgis.PyQt.QtCore import QVariant

    return value is None or (isinstance(value, QVariant) and value.isNull())


def run(parameters):
    import processing

    ensure_provider()
    defaults = {name: "TEMPORARY_OUTPUT" for name in OUTPUTS}
    return processing.run(ALGORITHM, {**defaults, **parameters})


TRUTH = [box_map(col, row) for col, row in AIRCRAFT_PX]  # 4 references
# 3 detections on references (one shifted by 1 px: IoU 0.71), one on empty ground, one low-scored on a reference
DETECTIONS = [TRUTH[0], TRUTH[1], (TRUTH[2][0] + 2, TRUTH[2][1], TRUTH[2][2] + 2, TRUTH[2][3]),
              (600.0 + 500000, 3999700.0, 612.0 + 500000, 3999712.0), TRUTH[3]]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.2]


def test_counts_errors_across_crss_and_writes_the_report(qgis_app, tmp_path):
    report = tmp_path / "report.html"
    result = run({"DETECTIONS": polygon_layer(DETECTIONS, scores=SCORES),
                  "REFERENCE": polygon_layer(to_wgs84(TRUTH), crs="EPSG:4326"),
                  "SCORE_THRESHOLD": 0.5, "REPORT": str(report)})
    assert (result["TP"], result["FP"], result["FN"], result["REFERENCES"]) == (3, 1, 1, 4)
    assert result["RECALL"] == pytest.approx(0.75) and result["PRECISION"] == pytest.approx(0.75)
    assert result["F1"] == pytest.approx(0.75)
    assert 0.0 < result["AP50"] <= 1.0
    tp, fp, fn = (result[name] for name in OUTPUTS)
    assert (tp.featureCount(), fp.featureCount(), fn.featureCount()) == (3, 1, 1)
    assert [f.name() for f in tp.fields()] == ["feature_id", "score", "iou", "matched_id", "source"]
    assert sorted(f["score"] for f in tp.getFeatures()) == pytest.approx([0.7, 0.8, 0.9])
    assert min(f["iou"] for f in tp.getFeatures()) == pytest.approx(120 / 168, abs=1e-4)  # shifted by 2 of 12 m
    assert sorted(f["matched_id"] for f in tp.getFeatures()) == [1, 2, 3]  # the references' feature ids
    missed = next(fn.getFeatures())
    assert fn.crs().authid() == SCENE_CRS  # the references come back in the detection layer's CRS
    rect = missed.geometry().boundingBox()
    assert (rect.xMinimum(), rect.yMaximum()) == pytest.approx((TRUTH[3][0], TRUTH[3][3]), abs=0.01)
    assert missed["feature_id"] == 4 and _null(missed["score"]) and _null(missed["matched_id"])  # 0.2 < 0.5
    html = report.read_text()
    assert result["REPORT"] == str(report)
    assert html.count("<img") == 2 and "data:image/png;base64," in html
    assert "Per detection layer at the operating point" in html and "Per raster" not in html  # not a raster
    assert "images" not in html.split("Full text report", 1)[1]  # no "1 images" for one layer
    assert "tiny (8-16 px)" in html and "square root of the box area, in pixels" in html  # size bins say their unit


def test_class_filter_and_an_empty_reference_layer(qgis_app, tmp_path):
    classes = ["plane", "plane", "heli", "heli"]
    result = run({"DETECTIONS": polygon_layer(DETECTIONS[:2], scores=SCORES[:2]),
                  "REFERENCE": polygon_layer(TRUTH, classes=classes), "CLASS_FIELD": "cls",
                  "CLASS_VALUE": "plane", "REPORT": str(tmp_path / "a.html")})
    assert (result["TP"], result["FP"], result["FN"], result["REFERENCES"]) == (2, 0, 0, 2)

    empty = run({"DETECTIONS": polygon_layer(DETECTIONS[:2], scores=SCORES[:2]),
                 "REFERENCE": polygon_layer([]), "REPORT": str(tmp_path / "b.html")})
    assert (empty["TP"], empty["FP"], empty["FN"]) == (0, 2, 0)
    assert math.isnan(empty["RECALL"]) and empty["PRECISION"] == 0.0
    assert "holds no polygons" in (tmp_path / "b.html").read_text()


def test_works_in_a_qgis_python_without_pycocotools_or_matplotlib(qgis_app, tmp_path, monkeypatch):
    """QGIS's own Python often lacks both: the layers, the figures that remain and the report still come."""
    for name in ("pycocotools", "pycocotools.coco", "pycocotools.cocoeval", "matplotlib",
                 "matplotlib.backends.backend_agg", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "engine.evaluation.figures", raising=False)
    result = run({"DETECTIONS": polygon_layer(DETECTIONS[:2], scores=SCORES[:2]),
                  "REFERENCE": polygon_layer(TRUTH), "REPORT": str(tmp_path / "r.html")})
    assert (result["TP"], result["FN"]) == (2, 2)
    html = (tmp_path / "r.html").read_text()
    assert "pycocotools is not installed" in html and "matplotlib is not installed" in html


def test_a_class_value_without_its_field_is_refused(qgis_app, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="class field"):
        run({"DETECTIONS": polygon_layer(DETECTIONS), "REFERENCE": polygon_layer(TRUTH),
             "CLASS_VALUE": "plane", "REPORT": str(tmp_path / "r.html")})
    assert not (tmp_path / "r.html").exists()


def test_chains_after_detect_aircraft_in_a_model(qgis_app, tmp_path):
    """Model builder: Detect aircraft's layer feeds Evaluate aircraft detections; references in EPSG:4326."""
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFile,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterVectorLayer,
        QgsVectorFileWriter,
    )

    ensure_provider()
    truth = write_scene(tmp_path / "scene.tif")
    references = polygon_layer(to_wgs84(truth[:3]), crs="EPSG:4326")  # the fourth aircraft is unreferenced
    refs_path = str(tmp_path / "refs.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    from qgis.core import QgsCoordinateTransformContext

    QgsVectorFileWriter.writeAsVectorFormatV3(references, refs_path, QgsCoordinateTransformContext(), options)
    model = QgsProcessingModelAlgorithm("detect_and_evaluate", "tests")
    for name, parameter in (("raster", QgsProcessingParameterRasterLayer("raster", "Raster")),
                            ("model", QgsProcessingParameterFile("model", "Model")),
                            ("refs", QgsProcessingParameterVectorLayer("refs", "References"))):
        model.addModelParameter(parameter, QgsProcessingModelParameter(name))
    detect = QgsProcessingModelChildAlgorithm("r2cnn:detectaircraft")
    detect.setChildId("detect")
    detect.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    detect.addParameterSources("MODEL", [QgsProcessingModelChildParameterSource.fromModelParameter("model")])
    model.addChildAlgorithm(detect)
    evaluate = QgsProcessingModelChildAlgorithm("r2cnn:evaluatedetections")
    evaluate.setChildId("evaluate")
    evaluate.addParameterSources("DETECTIONS", [QgsProcessingModelChildParameterSource.fromChildOutput("detect",
                                                                                                       "OUTPUT")])
    evaluate.addParameterSources("REFERENCE", [QgsProcessingModelChildParameterSource.fromModelParameter("refs")])
    outputs = {}
    for name, child_output in (("Report", "REPORT"), ("Missed", "FALSE_NEGATIVES"), ("Wrong", "FALSE_POSITIVES")):
        output = QgsProcessingModelOutput(name)
        output.setChildId("evaluate")
        output.setChildOutputName(child_output)
        outputs[name] = output
    evaluate.setModelOutputs(outputs)
    model.addChildAlgorithm(evaluate)

    report = tmp_path / "chained.html"
    result = processing.run(model, {
        "raster": str(tmp_path / "scene.tif"), "model": str(write_test_model(tmp_path / "blob.onnx")),
        "refs": refs_path, "evaluate:Report": str(report), "evaluate:Missed": "TEMPORARY_OUTPUT",
        "evaluate:Wrong": "TEMPORARY_OUTPUT",
    })
    assert result["evaluate:Missed"].featureCount() == 0
    assert result["evaluate:Wrong"].featureCount() == 1  # the unreferenced fourth aircraft
    assert "TP / FP / FN</b><span>3 / 1 / 0" in report.read_text()


def test_geographic_detections_are_matched_in_metres_and_the_report_is_an_html_output(qgis_app, tmp_path):
    from qgis.core import QgsApplication, QgsProcessingOutputHtml

    result = run({"DETECTIONS": polygon_layer(to_wgs84(DETECTIONS), crs="EPSG:4326", scores=SCORES),
                  "REFERENCE": polygon_layer(TRUTH), "SCORE_THRESHOLD": 0.5, "REPORT": str(tmp_path / "g.html")})
    assert (result["TP"], result["FP"], result["FN"]) == (3, 1, 1)
    assert result["FALSE_NEGATIVES"].crs().authid() == "EPSG:4326"
    algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM)
    assert isinstance(algorithm.outputDefinition("REPORT"), QgsProcessingOutputHtml)  # the Results Viewer shows it
    assert algorithm.displayName() == "Evaluate aircraft detections" and "IoU" in algorithm.shortHelpString()


def test_error_layers_written_to_geopackages_reopen_with_their_colours(qgis_app, tmp_path):
    from qgis.core import QgsVectorLayer

    from r2cnn_qgis.evaluate_algorithm import ERROR_OUTPUTS

    paths = {name: str(tmp_path / f"{name.lower()}.gpkg") for name in OUTPUTS}
    run({"DETECTIONS": polygon_layer(DETECTIONS, scores=SCORES), "REFERENCE": polygon_layer(TRUTH),
         "SCORE_THRESHOLD": 0.5, "REPORT": str(tmp_path / "r.html"), **paths})
    for name, _title, colour in ERROR_OUTPUTS:
        reopened = QgsVectorLayer(paths[name], name, "ogr")  # as a later session opens it: the stored style
        assert reopened.renderer().type() == "singleSymbol", name
        assert reopened.renderer().symbol().symbolLayer(1).strokeColor().name() == colour
