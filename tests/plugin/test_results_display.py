"""A detection layer explains itself: classes from the run's threshold, display name, map tip, labels,
aliases and score precision; saving a temporary layer; the help text and the Help button's target."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import REPO_ROOT, detection_layer, ensure_provider, write_scene, write_test_model  # noqa: E402

README = REPO_ROOT / "README.md"


@pytest.mark.parametrize("threshold, first_upper, count", [(0.3, 0.5, 4), (0.54, 0.7, 3), (0.0, 0.5, 4),
                                                           (0.9, 0.95, 2), (0.99, 1.0, 1)])
def test_classes_start_at_the_threshold_and_reach_one(threshold, first_upper, count):
    from r2cnn_qgis.styling import score_classes

    classes = score_classes(threshold)
    assert classes[0] == (pytest.approx(threshold), pytest.approx(first_upper))
    assert classes[-1][1] == 1.0 and len(classes) == count
    assert all(lower < upper for lower, upper in classes)
    assert all(a[1] == b[0] for a, b in zip(classes[:-1], classes[1:], strict=True))  # no gap, no overlap


def test_the_style_draws_every_kept_score_with_a_halo_and_the_top_class_red(qgis_app):
    from qgis.core import QgsGraduatedSymbolRenderer

    from r2cnn_qgis.styling import CLASS_COLOURS, apply_aircraft_style

    layer = detection_layer(scores=(0.54, 0.6, 0.8, 0.97))
    assert apply_aircraft_style(layer, 0.54)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer) and renderer.classAttribute() == "score"
    ranges = renderer.ranges()
    assert ranges[0].lowerValue() == pytest.approx(0.54) and ranges[0].label() == "0.54 \u2013 0.70"
    assert ranges[-1].symbol().symbolLayer(1).strokeColor().name() == CLASS_COLOURS[-1]
    halo = ranges[-1].symbol().symbolLayer(0)
    assert halo.strokeColor().value() < 40 and halo.strokeWidth() > ranges[-1].symbol().symbolLayer(1).strokeWidth()
    for feature in layer.getFeatures():  # no kept detection falls outside every class
        assert renderer.rangeForValue(feature["score"]) is not None


def test_display_expression_map_tip_labels_aliases_and_precision(qgis_app):
    from qgis.core import QgsApplication, QgsExpression, QgsExpressionContext, QgsExpressionContextUtils

    from r2cnn_qgis.styling import LABEL_MAX_SCALE, apply_aircraft_style

    layer = detection_layer(scores=(0.9578, 0.94))
    assert apply_aircraft_style(layer, 0.3)
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    features = list(layer.getFeatures())
    context.setFeature(features[0])
    assert QgsExpression(layer.displayExpression()).evaluate(context) == "aircraft 0.96"
    assert "score" in layer.mapTipTemplate() and "patch_score" in layer.mapTipTemplate()

    assert layer.labelsEnabled()
    settings = layer.labeling().settings()
    assert settings.scaleVisibility and settings.minimumScale == LABEL_MAX_SCALE  # only when zoomed in
    assert QgsExpression(settings.fieldName).evaluate(context) == "0.96"

    fields = layer.fields()
    assert [fields.field(i).displayName() for i in range(fields.count())] == [
        "Score", "Gate score", "Label", "Source raster", "Length (m)", "Width (m)", "Size class"]
    shown = []
    for index in (fields.indexOf("score"), fields.indexOf("patch_score")):
        setup = layer.editorWidgetSetup(index)
        formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
        for feature in features:
            shown.append(formatter.representValue(layer, index, setup.config(), None, feature[index]))
    assert shown == ["0.958", "0.940", "0.900", "0.900"]  # one format, whatever the digits


def test_a_temporary_layer_is_saved_whole_even_while_filtered(qgis_app, tmp_path):
    from qgis.core import QgsVectorLayer

    from r2cnn_qgis.save_layer import default_gpkg_path, is_temporary, save_as_geopackage
    from r2cnn_qgis.score_filter import apply_score_filter
    from r2cnn_qgis.styling import apply_aircraft_style

    layer = detection_layer()
    apply_aircraft_style(layer, 0.3)
    layer_id = layer.id()
    assert is_temporary(layer) and apply_score_filter(layer, 0.9) == (1, 5)
    path = default_gpkg_path(tmp_path, "GF1 scene: 2024/01")
    assert path.parent == tmp_path and ":" not in path.name and "/" not in path.name
    source = save_as_geopackage(layer, path)
    assert not is_temporary(layer) and layer.id() == layer_id and layer.featureCount() == 1  # filter kept
    reopened = QgsVectorLayer(source, "check", "ogr")  # loads the file's default style, as QGIS does
    assert reopened.featureCount() == 5  # every detection written
    assert reopened.renderer().type() == "graduatedSymbol" and reopened.renderer().classAttribute() == "score"
    assert reopened.labelsEnabled() and reopened.displayExpression() == layer.displayExpression()
    assert layer.renderer().classAttribute() == "score" and layer.labelsEnabled()
    assert apply_score_filter(layer, 0.0) == (5, 5)


def test_toolbox_run_styles_from_its_own_threshold(qgis_app, tmp_path):
    import processing
    from qgis.core import QgsProject

    ensure_provider()
    write_scene(tmp_path / "scene.tif")
    model = write_test_model(tmp_path / "blob.onnx")
    project = QgsProject.instance()
    try:
        result = processing.runAndLoadResults("r2cnn:detectaircraft", {
            "INPUT": str(tmp_path / "scene.tif"), "MODEL": str(model), "SCORE_THRESHOLD": 0.62,
            "OUTPUT": "TEMPORARY_OUTPUT"})
        layer = project.mapLayer(result["OUTPUT"])
        assert layer.renderer().ranges()[0].lowerValue() == pytest.approx(0.62)
        assert result["RECOMMENDED_SCORE"] == pytest.approx(0.5)  # the blob model's
        assert layer.customProperty("r2cnn/recommended_score") == pytest.approx(0.62)  # never below the run's
        assert project.layerTreeRoot().findLayer(layer.id()).isExpanded()
    finally:
        project.clear()


@pytest.mark.parametrize("algorithm_id, phrase", [("r2cnn:detectaircraft", "skips patches without aircraft"),
                                                   ("r2cnn:evaluatedetections", "false negatives")])
def test_help_panel_in_one_line_and_a_help_page_shipped_in_the_plugin(qgis_app, algorithm_id, phrase):
    """Help works offline: the Help button opens an HTML page inside the plugin folder (the zip ships it)."""
    from html.parser import HTMLParser
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    from qgis.core import QgsApplication

    from r2cnn_qgis.paths import PLUGIN_DIR

    ensure_provider()
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    help_html = algorithm.shortHelpString()
    assert "\n" not in help_html  # Processing would turn each one into a line break
    assert phrase in help_html and "<h1>" not in help_html and "In the QGIS window" not in help_html
    url = urlparse(algorithm.helpUrl())
    assert url.scheme == "file"
    page = Path(url2pathname(url.path))
    assert page.is_file() and PLUGIN_DIR in page.parents
    assert help_html.split()[0] in page.read_text(encoding="utf-8")

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.targets = []

        def handle_starttag(self, tag, attrs):
            self.targets += [value for name, value in attrs if name in ("href", "src")]

    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    assert links.targets and all((page.parent / target).is_file() for target in links.targets)  # all offline


def test_readme_names_the_menu_entries_and_the_dock_as_the_plugin_does():
    from r2cnn_qgis.ui_names import DETECT_ACTION, DOCK_TITLE, INSTALL_ACTION, menu_path

    text = README.read_text()
    for entry in (DETECT_ACTION, INSTALL_ACTION):
        assert menu_path(entry) in text, menu_path(entry)
    assert f"**{DOCK_TITLE} dock**" in text
    assert "Plugins menu" not in text and "Confidence dock" not in text


@pytest.mark.parametrize("algorithm_id, names", [
    ("r2cnn:detectaircraft", ("SCORE_THRESHOLD", "GATE_THRESHOLD", "OVERLAP")),
    ("r2cnn:evaluatedetections", ("IOU_THRESHOLD", "SCORE_THRESHOLD")),
])
def test_the_processing_dialog_shows_scores_with_two_decimals(qgis_app, algorithm_id, names):
    from qgis.core import QgsApplication, QgsProcessingContext
    from qgis.gui import QgsDoubleSpinBox, QgsGui, QgsProcessingGui

    ensure_provider()
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    context = QgsProcessingContext()
    for name in names:
        wrapper = QgsGui.processingGuiRegistry().createParameterWidgetWrapper(
            algorithm.parameterDefinition(name), QgsProcessingGui.Standard)
        widget = wrapper.createWrappedWidget(context)  # kept: the wrapper does not own it
        spin = (widget.findChildren(QgsDoubleSpinBox) or [widget])[0]
        assert spin.decimals() == 2, name
        wrapper.setParameterValue(0.3, context)
        assert spin.text() == "0.30", name


@pytest.mark.parametrize("algorithm_id", ["r2cnn:detectaircraft", "r2cnn:evaluatedetections"])
def test_parameter_labels_are_short_and_never_say_optional_twice(qgis_app, algorithm_id):
    """QGIS appends [optional] itself; a label longer than this is cut at the dialog's default width."""
    from qgis.core import QgsApplication

    ensure_provider()
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    for parameter in algorithm.parameterDefinitions():
        label = parameter.description()
        assert len(label) <= 45 and "optional" not in label.lower(), label
