"""The plugin in a (stand-in) QGIS window: button, menu, dock, background run, save, install dialog."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import AIRCRAFT_PX, make_fake_iface, write_scene, write_test_model  # noqa: E402


@pytest.fixture
def plugin(qgis_app):
    """The plugin as QGIS starts it (classFactory + initGui), unloaded afterwards."""
    from qgis.core import QgsApplication

    import r2cnn_qgis

    registry = QgsApplication.processingRegistry()
    if registry.providerById("r2cnn") is not None:  # other tests' helper registered one: the plugin's here
        registry.removeProvider("r2cnn")
    iface = make_fake_iface()
    instance = r2cnn_qgis.classFactory(iface)
    instance.initGui()
    yield instance
    instance.unload()
    assert registry.providerById("r2cnn") is None


@pytest.fixture
def project_with_scene(qgis_app, tmp_path):
    """A project with the scene raster inside a group, below another layer, so 'above' is checkable."""
    from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer

    write_scene(tmp_path / "scene.tif")
    project = QgsProject.instance()
    project.clear()
    raster = QgsRasterLayer(str(tmp_path / "scene.tif"), "scene")
    roads = QgsVectorLayer("LineString?crs=EPSG:32631", "roads", "memory")
    group = project.layerTreeRoot().addGroup("imagery")
    for layer in (roads, raster):
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    yield project, raster, group
    project.clear()


def hook_progress(monkeypatch, slot):
    """Connect slot to each run's progress before its task starts, in the reporting (worker) thread."""
    from qgis.PyQt.QtCore import Qt

    from r2cnn_qgis.background_task import DetectionRun

    original_start = DetectionRun.start

    def start(run):
        # DirectConnection: the slot runs where progress is reported (a queued one would run in this thread).
        run.feedback.progressChanged.connect(lambda percent: slot(run, percent), Qt.DirectConnection)
        return original_start(run)

    monkeypatch.setattr(DetectionRun, "start", start)


def wait_for(run, timeout_s=30.0):
    from qgis.core import QgsApplication

    deadline = time.monotonic() + timeout_s
    while not run.done and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert run.done, "the background task did not report back"
    QgsApplication.processEvents()  # the success message is pushed on the next turn of the event loop


def test_init_gui_adds_button_menu_dock_and_provider(plugin):
    from qgis.core import QgsApplication

    iface = plugin.iface
    assert plugin.detect_action in iface.toolbar.actions()
    assert plugin.detect_action.text() == "Detect aircraft in active layer"
    menu = iface.menus["&R2-CNN aircraft detection"]
    assert [action.text() for action in menu] == [
        "Detect aircraft in active layer", "Aircraft confidence", "Install dependencies\u2026"]
    assert plugin.dock is not None and plugin.dock.parent() is iface.window
    assert QgsApplication.processingRegistry().algorithmById("r2cnn:detectaircraft") is not None
    assert iface.bar.messages == []  # onnxruntime and rasterio import here: nothing to say


def test_button_runs_in_the_background_and_adds_the_styled_layer_above_the_raster(
    plugin, project_with_scene, tmp_path, monkeypatch
):
    from qgis.core import Qgis, QgsGraduatedSymbolRenderer

    project, raster, group = project_with_scene
    plugin.iface.active_layer = raster
    model = write_test_model(tmp_path / "blob.onnx")
    worker_threads = set()
    hook_progress(monkeypatch, lambda _run, _percent: worker_threads.add(threading.get_ident()))
    run = plugin.run_on_active_layer({"MODEL": str(model)})
    wait_for(run)

    assert worker_threads and threading.get_ident() not in worker_threads  # ran off the main thread
    layer = run.result_layer
    assert layer is not None and layer.name() == "Aircraft \u2013 scene"
    assert layer.featureCount() == len(AIRCRAFT_PX)
    assert [child.name() for child in group.children()] == ["roads", "Aircraft \u2013 scene", "scene"]
    renderer = layer.renderer()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer) and renderer.classAttribute() == "score"
    assert "score" in layer.displayExpression()
    assert plugin.dock.layer() is layer and plugin.dock.isVisibleTo(plugin.iface.window)  # window not shown
    assert plugin.dock.count_text() == f"{len(AIRCRAFT_PX)} of {len(AIRCRAFT_PX)} aircraft visible"
    assert plugin.dock.threshold() == pytest.approx(0.5)  # the model's recommended score, not 0
    assert layer.subsetString() == '"score" >= 0.500'  # the layer itself holds every detection kept
    assert plugin.iface.activeLayer() is layer  # Identify and the dock act on the result
    assert project.layerTreeRoot().findLayer(layer.id()).isExpanded()
    assert renderer.ranges()[0].lowerValue() == pytest.approx(0.5)  # the run's: the model's (write_test_model)
    title, text, level = plugin.iface.bar.messages[-1]
    assert level == Qgis.Success and text.startswith(f"{len(AIRCRAFT_PX)} aircraft found in scene.")
    assert text.endswith("Temporary layer:") and "\n" not in text

    saved = tmp_path / "saved" / "aircraft_scene.gpkg"
    saved.parent.mkdir()
    asked = []
    plugin.ask_save_path = lambda _parent, suggested: asked.append(suggested) or str(saved)
    offer = plugin.iface.bar.items[-1]
    plugin.iface.bar.buttons()["Save as GeoPackage\u2026"].click()
    assert plugin.iface.bar.popped == [offer]  # the "Temporary layer" line does not come back
    assert asked == [tmp_path / "aircraft_scene.gpkg"]  # suggested beside the raster
    assert layer.providerType() == "ogr" and saved.is_file() and layer.featureCount() == len(AIRCRAFT_PX)
    assert "saved to" in plugin.iface.bar.messages[-1][1]


def test_cancelling_the_task_adds_nothing(plugin, project_with_scene, tmp_path, monkeypatch):
    from qgis.core import Qgis

    project, raster, group = project_with_scene
    plugin.iface.active_layer = raster
    model = write_test_model(tmp_path / "blob.onnx")
    # Cancel the task (as its cancel button does) when the engine first reports progress, before any patch.
    hook_progress(monkeypatch, lambda run, _percent: run.task.cancel())
    run = plugin.run_on_active_layer({"MODEL": str(model)})
    wait_for(run)

    assert run.result_layer is None
    assert [child.name() for child in group.children()] == ["roads", "scene"]
    title, text, level = plugin.iface.bar.messages[-1]
    assert level == Qgis.Info and "cancelled" in text


def test_engine_errors_become_one_message(plugin, project_with_scene, tmp_path):
    from qgis.core import Qgis

    _, raster, _ = project_with_scene
    plugin.iface.active_layer = raster
    run = plugin.run_on_active_layer({"MODEL": str(tmp_path / "missing.onnx")})
    wait_for(run)
    title, text, level = plugin.iface.bar.messages[-1]
    assert level == Qgis.Critical and "model file not found" in text


def test_button_without_a_raster_says_so(plugin, qgis_app):
    plugin.iface.active_layer = None
    assert plugin.run_on_active_layer() is None
    assert "raster layer" in plugin.iface.bar.messages[-1][1]


def test_missing_onnxruntime_plugin_still_loads_and_offers_the_install_dialog(qgis_app, monkeypatch, tmp_path):
    from qgis.core import QgsApplication

    import r2cnn_qgis
    from r2cnn_qgis.install_dialog import InstallDialog
    from r2cnn_qgis.interpreter import FinderResult, Interpreter

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    registry = QgsApplication.processingRegistry()
    if registry.providerById("r2cnn") is not None:
        registry.removeProvider("r2cnn")
    iface = make_fake_iface()
    plugin = r2cnn_qgis.classFactory(iface)

    def fake_pip_that_provides_onnxruntime(python, target):
        """'Installing' makes the import work again, as a real install into the plugin folder would."""
        from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

        class Installer(QObject):
            output = pyqtSignal(str)
            finished = pyqtSignal(bool, str)

            def start(self, requirements):
                self.requirements = requirements
                monkeypatch.delitem(sys.modules, "onnxruntime")
                QTimer.singleShot(0, lambda: self.finished.emit(True, "installed onnxruntime==1.0"))

            def cancel(self):
                pass

        return Installer()

    interpreter = FinderResult(Interpreter("/usr/bin/python3", tuple(sys.version_info[:3]), True))
    plugin.install_dialog_factory = lambda parent: InstallDialog(
        parent, finder=lambda: interpreter, installer_factory=fake_pip_that_provides_onnxruntime,
        target=tmp_path / "pkgs", prefer_gpu=False)
    plugin.initGui()
    try:
        assert registry.algorithmById("r2cnn:detectaircraft") is not None  # the provider is still there
        assert len(iface.bar.messages) == 1
        text = iface.bar.messages[0][1]
        assert "onnxruntime" in text and "\n" not in text and "pip" not in text
        assert plugin.install_action in iface.menus["&R2-CNN aircraft detection"]
        iface.bar.buttons(0)["Install\u2026"].click()  # the message's button opens the dialog
        dialog = plugin.install_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.selected_requirements() == ["onnxruntime"]
        dialog.hide()

        iface.active_layer = None
        assert plugin.run_on_active_layer() is None  # the button brings the dialog back instead of failing
        assert plugin.install_dialog is dialog and dialog.isVisible()
        dialog.start_install()
        deadline = time.monotonic() + 10
        while dialog.installer is not None and time.monotonic() < deadline:
            QgsApplication.processEvents()
        assert dialog.missing_required() == []
        assert "ready" in iface.bar.messages[-1][1]
        assert iface.bar.popped == [iface.bar.items[0]]  # the "needs onnxruntime" line is gone
    finally:
        plugin.unload()
