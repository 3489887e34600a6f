"""The confidence slider filters a detection layer on `score` live (subset string) and counts what stays."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import detection_layer, ensure_provider, write_scene, write_test_model  # noqa: E402


@pytest.mark.parametrize("provider", ["memory", "ogr"])
def test_apply_score_filter_counts_visible_and_total(qgis_app, tmp_path, provider):
    from r2cnn_qgis.score_filter import apply_score_filter

    layer = detection_layer(provider=provider, tmp_path=tmp_path)
    assert apply_score_filter(layer, 0.0) == (5, 5)
    assert apply_score_filter(layer, 0.6) == (3, 5)
    assert sorted(f["score"] for f in layer.getFeatures()) == pytest.approx([0.62, 0.8, 0.97])
    assert apply_score_filter(layer, 0.99) == (0, 5)
    assert apply_score_filter(layer, 0.4) == (4, 5)


def test_the_users_own_filter_is_kept(qgis_app):
    from r2cnn_qgis.score_filter import apply_score_filter

    layer = detection_layer()
    assert layer.setSubsetString('"score" < 0.9')  # the user's filter, before the slider is touched
    assert apply_score_filter(layer, 0.45) == (3, 4)  # 0.5, 0.62, 0.8 of the 4 below 0.9
    assert apply_score_filter(layer, 0.0) == (4, 4)
    assert layer.subsetString() == '"score" < 0.9'


def test_slider_filters_live_and_reports_the_count(qgis_app):
    from qgis.core import QgsProject

    from r2cnn_qgis.confidence_dock import ConfidenceDock

    layer = detection_layer()
    QgsProject.instance().addMapLayer(layer)
    try:
        dock = ConfidenceDock()
        dock.set_layer(layer)
        assert dock.layer() is layer
        assert dock.count_text() == "5 of 5 aircraft visible"

        dock.slider.setValue(60)  # as a user dragging the slider to 0.60
        assert dock.count_text() == "3 of 5 aircraft visible"
        assert layer.featureCount() == 3
        assert dock.value_label.text() == "0.60"

        dock.set_threshold(0.9)
        assert dock.count_text() == "1 of 5 aircraft visible"
        dock.set_threshold(0.0)
        assert dock.count_text() == "5 of 5 aircraft visible" and layer.subsetString() == ""
    finally:
        QgsProject.instance().removeMapLayer(layer.id())


def test_slider_on_a_processing_result_without_rerunning(qgis_app, tmp_path):
    """Filtering the algorithm's own output: the feature count drops, the layer is the same object."""
    import processing

    from r2cnn_qgis.score_filter import apply_score_filter

    ensure_provider()
    write_scene(tmp_path / "scene.tif")
    model = write_test_model(tmp_path / "blob.onnx")
    parameters = {"INPUT": str(tmp_path / "scene.tif"), "MODEL": str(model), "OUTPUT": "memory:"}
    layer = processing.run("r2cnn:detectaircraft", parameters)["OUTPUT"]
    assert apply_score_filter(layer, 0.85) == (4, 4)  # the blob model scores 0.9
    assert apply_score_filter(layer, 0.95) == (0, 4)


def test_layers_without_a_score_field_disable_the_slider(qgis_app):
    from qgis.core import QgsProject, QgsVectorLayer

    from r2cnn_qgis.confidence_dock import ConfidenceDock

    other = QgsVectorLayer("Polygon?crs=EPSG:32631&field=name:string", "parcels", "memory")
    QgsProject.instance().addMapLayer(other)
    try:
        dock = ConfidenceDock()
        dock.layer_combo.setLayer(other)
        assert dock.layer() is None and not dock.slider.isEnabled()
        assert "score field" in dock.count_text()
    finally:
        QgsProject.instance().removeMapLayer(other.id())


def test_a_point_layer_with_a_score_field_is_filtered_too(qgis_app):
    """The example model's "Aircraft centres": points carrying the boxes' attributes."""
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer

    from r2cnn_qgis.confidence_dock import ConfidenceDock
    from r2cnn_qgis.detection_features import detection_fields

    centres = QgsVectorLayer("Point?crs=EPSG:32631", "Aircraft centres", "memory")
    centres.dataProvider().addAttributes(detection_fields().toList())
    centres.updateFields()
    features = []
    for index, score in enumerate((0.4, 0.7, 0.9)):
        feature = QgsFeature(centres.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(index * 20.0, 0.0)))
        feature.setAttribute("score", score)
        features.append(feature)
    assert centres.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(centres)
    try:
        dock = ConfidenceDock()
        dock.set_layer(centres)
        assert dock.layer() is centres and dock.slider.isEnabled()
        dock.set_threshold(0.6)
        assert dock.count_text() == "2 of 3 aircraft visible" and centres.featureCount() == 2
    finally:
        QgsProject.instance().removeMapLayer(centres.id())


def test_size_classes_are_counted_at_the_slider_and_can_be_hidden(qgis_app):
    """The dock's per-class counts follow the slider; unticking a class filters it out."""
    from qgis.core import QgsProject

    from r2cnn_qgis.confidence_dock import ConfidenceDock

    classes = ("light", "narrow body", "narrow body", "wide body", "narrow body")
    layer = detection_layer(scores=(0.4, 0.6, 0.7, 0.9, 0.95), size_classes=classes)
    QgsProject.instance().addMapLayer(layer)
    try:
        dock = ConfidenceDock()
        dock.set_layer(layer)
        assert list(dock.class_boxes) == ["light", "narrow body", "wide body"]  # smallest first
        assert dock.class_text() == "light 1 \u00b7 narrow body 3 \u00b7 wide body 1"
        dock.set_threshold(0.65)
        assert dock.class_text() == "light 0 \u00b7 narrow body 2 \u00b7 wide body 1"
        dock.class_boxes["narrow body"].setChecked(False)
        assert dock.count_text() == "1 of 5 aircraft visible"
        assert [f["size_class"] for f in layer.getFeatures()] == ["wide body"]
        assert dock.class_text() == "light 0 \u00b7 narrow body 2 \u00b7 wide body 1"  # counts ignore the ticks

        other = ConfidenceDock()  # the choice travels with the layer (saved in the project)
        other.set_layer(layer)
        assert not other.class_boxes["narrow body"].isChecked() and other.count_text() == "1 of 5 aircraft visible"
        dock.class_boxes["narrow body"].setChecked(True)
        dock.set_threshold(0.0)
        assert dock.count_text() == "5 of 5 aircraft visible" and layer.subsetString() == ""
    finally:
        QgsProject.instance().removeMapLayer(layer.id())


def test_layers_without_size_classes_show_no_class_row(qgis_app):
    from qgis.core import QgsProject

    from r2cnn_qgis.confidence_dock import ConfidenceDock

    layer = detection_layer()
    layer.dataProvider().deleteAttributes([layer.fields().indexOf("size_class")])  # as an older version wrote
    layer.updateFields()
    QgsProject.instance().addMapLayer(layer)
    try:
        dock = ConfidenceDock()
        dock.set_layer(layer)
        assert dock.class_boxes == {} and not dock.class_panel.isVisibleTo(dock)
        assert dock.count_text() == "5 of 5 aircraft visible"
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
