"""The plugin object QGIS loads: provider, toolbar button, menu entries, dock, dependency notice."""
from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsRasterLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .background_task import DetectionRun
from .confidence_dock import ConfidenceDock
from .dependencies import missing_dependency_message
from .paths import icon_path
from .provider import R2cnnProvider
from .score_filter import has_score_field

MENU = "&R2-CNN aircraft detection"
TITLE = "R2-CNN"


class R2cnnPlugin:
    """Processing provider always; GUI parts only when QGIS calls initGui()."""

    def __init__(self, iface):
        self.iface = iface
        self.provider: R2cnnProvider | None = None
        self.detect_action: QAction | None = None
        self.dock: ConfidenceDock | None = None
        self.runs: list[DetectionRun] = []
        self.dependency_message: str | None = None

    def initProcessing(self):
        """Register the provider (also called alone by qgis.utils.startProcessingPlugin, headless)."""
        if self.provider is None:
            self.provider = R2cnnProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        """Toolbar button, menu entries and the dock; then one message if onnxruntime is missing."""
        self.initProcessing()
        window = self.iface.mainWindow()
        self.detect_action = QAction(QIcon(str(icon_path())), "Detect aircraft in active layer", window)
        self.detect_action.setToolTip("Detect aircraft in the active raster layer (runs in the background)")
        self.detect_action.triggered.connect(lambda _checked=False: self.run_on_active_layer())
        self.iface.addToolBarIcon(self.detect_action)
        self.iface.addPluginToRasterMenu(MENU, self.detect_action)

        self.dock = ConfidenceDock(window)
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.iface.addPluginToRasterMenu(MENU, self.dock.toggleViewAction())
        self.iface.currentLayerChanged.connect(self._on_current_layer_changed)

        self.dependency_message = missing_dependency_message()
        if self.dependency_message:
            self._notify(Qgis.Warning, self.dependency_message)

    def unload(self):
        """Undo everything initGui / initProcessing did, so a reload starts clean."""
        for run in self.runs:
            if run.task is not None and not run.done:
                run.task.cancel()
        self.runs.clear()
        if self.detect_action is not None:
            self.iface.removePluginRasterMenu(MENU, self.detect_action)
            self.iface.removeToolBarIcon(self.detect_action)
            self.detect_action.deleteLater()
            self.detect_action = None
        if self.dock is not None:
            self.iface.currentLayerChanged.disconnect(self._on_current_layer_changed)
            self.iface.removePluginRasterMenu(MENU, self.dock.toggleViewAction())
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    def run_on_active_layer(self, extra_parameters: dict | None = None) -> DetectionRun | None:
        """The button: detect in the active raster as a background task; returns the run (None if refused).

        extra_parameters (e.g. {"MODEL": path}) are added to the algorithm's; the button passes none.
        """
        message = missing_dependency_message()
        if message:
            self._notify(Qgis.Warning, message)
            return None
        layer = self.iface.activeLayer()
        if not isinstance(layer, QgsRasterLayer):
            self._notify(Qgis.Info, "Select a raster layer in the Layers panel first.")
            return None
        self.runs = [run for run in self.runs if not run.done]
        run = DetectionRun(layer, self._notify, self._show_in_dock, extra_parameters=extra_parameters)
        try:
            run.start()
        except Exception as exc:  # prepareAlgorithm refused the input: one message, no traceback dialog
            self._notify(Qgis.Critical, f"Aircraft detection cannot start: {exc}")
            return None
        self.runs.append(run)
        return run

    def _show_in_dock(self, layer) -> None:
        """A new result: select it in the dock and show the dock."""
        if self.dock is not None:
            self.dock.set_layer(layer)
            self.dock.show()

    def _on_current_layer_changed(self, layer) -> None:
        """Follow the Layers panel: a detection layer becomes the one the slider filters."""
        if self.dock is not None and has_score_field(layer):
            self.dock.set_layer(layer)

    def _notify(self, level, text: str) -> None:
        """One message in the message bar (kept until closed for warnings), and the same in the log."""
        duration = 0 if level in (Qgis.Warning, Qgis.Critical) else 8
        self.iface.messageBar().pushMessage(TITLE, text, level, duration)
        QgsMessageLog.logMessage(text, TITLE, level)
