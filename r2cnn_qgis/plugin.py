"""The plugin object QGIS loads: provider, toolbar button, Raster menu entries, dock, install dialog."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsRasterLayer
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QFileDialog, QPushButton

from .background_task import DetectionRun
from .confidence_dock import ConfidenceDock
from .dependencies import activate_packages_dir, missing_modules
from .install_dialog import InstallDialog
from .paths import icon_path
from .provider import R2cnnProvider
from .qt_compat import QAction
from .save_layer import default_gpkg_path, is_temporary, save_as_geopackage
from .score_filter import has_score_field
from .ui_names import DETECT_ACTION, INSTALL_ACTION, MENU, MESSAGE_TITLE

Buttons = list[tuple[str, Callable[[], None]]]


def ask_gpkg_path(parent, suggested: Path) -> str:
    """The file dialog for 'Save as GeoPackage…'; '' when the user cancels."""
    path, _filter = QFileDialog.getSaveFileName(parent, "Save aircraft as GeoPackage", str(suggested),
                                                "GeoPackage (*.gpkg)")
    return path


class R2cnnPlugin:
    """Processing provider always; GUI parts only when QGIS calls initGui()."""

    def __init__(self, iface):
        activate_packages_dir()  # what the install dialog put there imports from the start
        self.iface = iface
        self.provider: R2cnnProvider | None = None
        self.detect_action: QAction | None = None
        self.install_action: QAction | None = None
        self.dock: ConfidenceDock | None = None
        self.install_dialog: InstallDialog | None = None
        self.install_dialog_factory: Callable[..., InstallDialog] = InstallDialog  # tests pass a fake pip
        self.ask_save_path: Callable[[object, Path], str] = ask_gpkg_path
        self.runs: list[DetectionRun] = []
        self.missing_message = None  # the "needs onnxruntime… [Install…]" line, taken down once installed
        self.save_messages: dict[str, object] = {}  # layer id -> its "Temporary layer: [Save…]" line

    def initProcessing(self):
        """Register the provider (also called alone by qgis.utils.startProcessingPlugin, headless)."""
        if self.provider is None:
            self.provider = R2cnnProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        """Toolbar button, Raster menu entries and the dock; then one line if a dependency is missing."""
        self.initProcessing()
        window = self.iface.mainWindow()
        self.detect_action = QAction(QIcon(str(icon_path())), DETECT_ACTION, window)
        self.detect_action.setToolTip("Detect aircraft in the active raster layer (runs in the background)")
        self.detect_action.triggered.connect(lambda _checked=False: self.run_on_active_layer())
        self.install_action = QAction(INSTALL_ACTION, window)
        self.install_action.triggered.connect(lambda _checked=False: self.show_install_dialog())
        self.iface.addToolBarIcon(self.detect_action)

        self.dock = ConfidenceDock(window)
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        for action in self._menu_actions():
            self.iface.addPluginToRasterMenu(MENU, action)
        self.iface.currentLayerChanged.connect(self._on_current_layer_changed)

        missing = missing_modules()
        if missing:
            self.missing_message = self._push(
                Qgis.MessageLevel.Warning, f"Aircraft detection needs {' and '.join(missing)} for QGIS's Python.",
                [("Install\u2026", self.show_install_dialog)])

    def unload(self):
        """Undo everything initGui / initProcessing did, so a reload starts clean."""
        for run in self.runs:
            if run.task is not None and not run.done:
                run.task.cancel()
        self.runs.clear()
        if self.install_dialog is not None:
            self.install_dialog.reject()
            self.install_dialog.deleteLater()
            self.install_dialog = None
        if self.detect_action is not None:
            for action in self._menu_actions():
                self.iface.removePluginRasterMenu(MENU, action)
            self.iface.removeToolBarIcon(self.detect_action)
            self.iface.currentLayerChanged.disconnect(self._on_current_layer_changed)
            self.iface.removeDockWidget(self.dock)
            self.dock.detach()
            for widget in (self.dock, self.detect_action, self.install_action):
                widget.deleteLater()
            self.dock = self.detect_action = self.install_action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    def show_install_dialog(self) -> InstallDialog:
        """The install dialog, created once, re-checked and brought to the front on each call."""
        if self.install_dialog is None:
            self.install_dialog = self.install_dialog_factory(self.iface.mainWindow())
            self.install_dialog.ready.connect(self._on_dependencies_ready)
        self.install_dialog.refresh()
        self.install_dialog.show()
        self.install_dialog.raise_()
        self.install_dialog.activateWindow()
        return self.install_dialog

    def run_on_active_layer(self, extra_parameters: dict | None = None) -> DetectionRun | None:
        """The button: detect in the active raster as a background task; returns the run (None if refused).

        extra_parameters (e.g. {"MODEL": path}) are added to the algorithm's; the button passes none.
        A missing dependency opens the install dialog instead.
        """
        if missing_modules():
            self.show_install_dialog()
            return None
        layer = self.iface.activeLayer()
        if not isinstance(layer, QgsRasterLayer):
            self._notify(Qgis.MessageLevel.Info, "Select a raster layer in the Layers panel first.")
            return None
        self.runs = [run for run in self.runs if not run.done]
        run = DetectionRun(layer, self._notify, lambda result, text: self._on_result(result, text, layer),
                           extra_parameters=extra_parameters)
        try:
            run.start()
        except Exception as exc:  # prepareAlgorithm refused the input: one message, no traceback dialog
            self._notify(Qgis.MessageLevel.Critical, f"Aircraft detection cannot start: {exc}")
            return None
        self.runs.append(run)
        return run

    def save_layer(self, layer, raster) -> str | None:
        """'Save as GeoPackage…': ask where (beside the raster), write, point the layer there; its source or None."""
        suggested = default_gpkg_path(Path(raster.source()).parent, raster.name())
        path = self.ask_save_path(self.iface.mainWindow(), suggested)
        if not path:
            return None
        try:
            source = save_as_geopackage(layer, path)
        except ValueError as exc:
            self._notify(Qgis.MessageLevel.Critical, f"The aircraft layer was not saved: {exc}")
            return None
        self._pop(self.save_messages.pop(layer.id(), None))  # it is no longer temporary
        self._notify(Qgis.MessageLevel.Success, f"{layer.name()} saved to {source.split('|', 1)[0]}.")
        return source

    def _menu_actions(self) -> list[QAction]:
        """The Raster menu's entries, in order (added in initGui, removed in unload)."""
        return [self.detect_action, self.dock.toggleViewAction(), self.install_action]

    def _on_result(self, layer, text: str, raster) -> None:
        """A new result: make it the active layer, show it in the dock, offer to save a temporary one."""
        self.iface.setActiveLayer(layer)
        if self.dock is not None:
            self.dock.set_layer(layer)
            self.dock.show()
        buttons = [("Save as GeoPackage\u2026", lambda: self.save_layer(layer, raster))]
        if is_temporary(layer):  # pushed after QGIS's own "Task complete", so this one is on top
            QTimer.singleShot(0, lambda: self._push_save_offer(layer, f"{text} Temporary layer:", buttons))
        else:
            QTimer.singleShot(0, lambda: self._push(Qgis.MessageLevel.Success, text))

    def _push_save_offer(self, layer, text: str, buttons: Buttons) -> None:
        """The result's line with its Save button, remembered so that saving takes it down."""
        if is_temporary(layer):  # not saved in the meantime
            self.save_messages[layer.id()] = self._push(Qgis.MessageLevel.Success, text, buttons)

    def _on_dependencies_ready(self) -> None:
        """The install dialog made the imports work: replace the first warning by one that says so."""
        self._pop(self.missing_message)
        self.missing_message = None
        self._notify(Qgis.MessageLevel.Success, "The dependencies import now: aircraft detection is ready.")

    def _on_current_layer_changed(self, layer) -> None:
        """Follow the Layers panel: a detection layer becomes the one the slider filters."""
        if self.dock is not None and has_score_field(layer):
            self.dock.set_layer(layer)

    def _notify(self, level, text: str) -> None:
        """One message in the message bar (kept until closed for warnings), and the same in the log."""
        self._push(level, text)

    def _pop(self, item) -> None:
        """Take a line off the message bar, if the user has not closed it already."""
        if item is None:
            return
        try:
            self.iface.messageBar().popWidget(item)
        except RuntimeError:  # closed by the user: Qt deleted the item
            pass

    def _push(self, level, text: str, buttons: Buttons | None = None):
        """One line in the message bar, with buttons when given (returned, to pop it later); the same in the log."""
        duration = 0 if level in (Qgis.MessageLevel.Warning, Qgis.MessageLevel.Critical) or buttons else 8
        QgsMessageLog.logMessage(text, MESSAGE_TITLE, level)
        if not buttons:
            self.iface.messageBar().pushMessage(MESSAGE_TITLE, text, level, duration)
            return None
        item = QgsMessageBar.createMessage(MESSAGE_TITLE, text)
        for label, callback in buttons:
            button = QPushButton(label, item)
            button.clicked.connect(lambda _checked=False, callback=callback: callback())
            item.layout().addWidget(button)
        self.iface.messageBar().pushWidget(item, level, duration)
        return item
