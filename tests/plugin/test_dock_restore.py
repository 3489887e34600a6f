"""The confidence dock comes back with its layer after a project is saved and read again."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import detection_layer  # noqa: E402


@pytest.fixture
def project(qgis_app):
    from qgis.core import QgsProject

    project = QgsProject.instance()
    project.clear()
    yield project
    project.clear()


def saved_layers(tmp_path, names):
    """GeoPackage detection layers (they survive a project reload, unlike memory layers), top first."""
    from qgis.core import QgsVectorLayer

    layers = []
    for name in names:
        folder = tmp_path / name
        folder.mkdir()
        source = detection_layer(provider="ogr", tmp_path=folder).source()
        layers.append(QgsVectorLayer(source, name, "ogr"))
    return layers


def test_the_remembered_layer_comes_back_after_the_project_is_read_again(project, tmp_path):
    from qgis.core import QgsVectorLayer

    from r2cnn_qgis.confidence_dock import ConfidenceDock

    upper, lower = saved_layers(tmp_path, ["upper", "lower"])
    parcels = QgsVectorLayer("Polygon?crs=EPSG:32631&field=name:string", "parcels", "memory")
    for layer in (parcels, upper, lower):
        project.addMapLayer(layer)  # each new one on top: lower, upper, parcels from the top
    dock = ConfidenceDock(project=project)
    try:
        assert dock.layer().name() == "lower"  # nothing remembered yet: the topmost detection layer
        dock.layer_combo.setLayer(upper)  # the user's choice
        dock.set_threshold(0.6)
        assert project.write(str(tmp_path / "p.qgz"))

        project.clear()
        assert dock.layer() is None and "Choose a detection layer" in dock.count_text()
        assert project.read(str(tmp_path / "p.qgz"))
        assert dock.layer() is not None and dock.layer().name() == "upper"
        assert dock.threshold() == pytest.approx(0.6) and dock.count_text() == "3 of 5 aircraft visible"
    finally:
        dock.detach()


def test_without_a_remembered_layer_the_topmost_detection_layer_is_taken(project, tmp_path):
    from r2cnn_qgis.confidence_dock import ConfidenceDock, topmost_detection_layer

    first, second = saved_layers(tmp_path, ["first", "second"])
    root = project.layerTreeRoot()
    group = root.addGroup("results")
    for layer in (first, second):
        project.addMapLayer(layer, False)
        group.addLayer(layer)  # appended: first above second
    assert topmost_detection_layer(project) is first
    dock = ConfidenceDock(project=project)
    try:
        assert dock.layer() is first
        project.removeMapLayer(first.id())  # the filtered layer is gone: the next one takes over
        assert dock.layer() is second
    finally:
        dock.detach()


def test_remembering_a_layer_does_not_mark_the_project_modified(project, tmp_path):
    from r2cnn_qgis.confidence_dock import DOCK_LAYER_PROPERTY, ConfidenceDock

    first, second = saved_layers(tmp_path, ["first", "second"])
    project.addMapLayers([first, second])
    assert project.write(str(tmp_path / "p.qgz")) and not project.isDirty()
    dock = ConfidenceDock(project=project)
    try:
        dock.layer_combo.setLayer(second)
        dock.layer_combo.setLayer(first)
        assert first.customProperty(DOCK_LAYER_PROPERTY) and not second.customProperty(DOCK_LAYER_PROPERTY)
        assert not project.isDirty()
    finally:
        dock.detach()
