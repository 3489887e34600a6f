"""Dock with a 0..1 confidence slider that filters a detection layer live and counts what stays visible;
with the size fields, one checkbox per size class shows how many of each pass the slider and hides a class.

It remembers its layer in the project (a layer property, saved with it) and, after a restart or when
that layer is gone, falls back to the topmost detection layer of the Layers panel.
"""
from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel, QgsProject
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from .detection_features import SIZE_CLASSES
from .score_filter import (
    apply_score_filter,
    class_counts,
    current_min_score,
    current_size_classes,
    has_score_field,
    has_size_classes,
    size_class_table,
)
from .ui_names import DOCK_TITLE

SLIDER_STEPS = 100  # 0.01 per step
DOCK_LAYER_PROPERTY = "r2cnn/dock_layer"  # set on the one layer the dock filters


def topmost_detection_layer(project: QgsProject):
    """The highest layer of the Layers panel that has a score field, or None."""
    for node in project.layerTreeRoot().findLayers():
        if has_score_field(node.layer()):
            return node.layer()
    return None


def remembered_layer(project: QgsProject):
    """The layer the dock filtered when the project was saved, if it is still there."""
    for layer in project.mapLayers().values():
        if layer.customProperty(DOCK_LAYER_PROPERTY) and has_score_field(layer):
            return layer
    return None


class ConfidenceDock(QgsDockWidget):
    """Pick a detection layer, drag the slider: the layer's subset string follows, nothing is re-run."""

    def __init__(self, parent=None, project: QgsProject | None = None):
        super().__init__(DOCK_TITLE, parent)
        self.project = project or QgsProject.instance()
        self.setObjectName("R2cnnConfidenceDock")
        self.layer_combo = QgsMapLayerComboBox()
        # boxes, and points derived from them (centroids in a model) keep their score field too
        self.layer_combo.setFilters(
            QgsMapLayerProxyModel.Filter.PolygonLayer | QgsMapLayerProxyModel.Filter.PointLayer
        )
        self.layer_combo.setAllowEmptyLayer(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Minimum score shown")
        self.value_label = QLabel("0.00")
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        self.class_boxes: dict[str, QCheckBox] = {}  # size class -> its checkbox (layers with the size fields)
        self._table: list[tuple[float, str]] = []  # (score, size class) of the layer's detections
        self.class_row = QHBoxLayout()
        self.class_panel = QWidget()
        self.class_panel.setLayout(self.class_row)
        self.class_panel.setToolTip("Size class by the box's longer side in metres; untick to hide a class")

        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Minimum score"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.value_label)
        column = QVBoxLayout()
        column.addWidget(self.layer_combo)
        column.addLayout(slider_row)
        column.addWidget(self.class_panel)
        column.addWidget(self.count_label)
        column.addStretch(1)
        body = QWidget()
        body.setLayout(column)
        self.setWidget(body)

        self.layer_combo.layerChanged.connect(self._on_layer_changed)
        self.slider.valueChanged.connect(self._on_slider_moved)
        self.project.readProject.connect(self.restore)
        self.project.layersRemoved.connect(self._on_layers_removed)
        self._on_layer_changed(self.layer_combo.currentLayer())
        self.restore()

    def detach(self) -> None:
        """Stop following the project (the plugin calls it before deleting the dock)."""
        self.project.readProject.disconnect(self.restore)
        self.project.layersRemoved.disconnect(self._on_layers_removed)

    def restore(self, *_args) -> None:
        """Back to the remembered layer, else the topmost detection layer (after a project is read)."""
        layer = remembered_layer(self.project) or topmost_detection_layer(self.project)
        if layer is not None:
            self.set_layer(layer)

    def layer(self):
        """The detection layer being filtered, or None."""
        layer = self.layer_combo.currentLayer()
        return layer if has_score_field(layer) else None

    def set_layer(self, layer) -> None:
        """Filter this layer from now on (the plugin calls it for each new result and the active layer)."""
        if has_score_field(layer):
            self.layer_combo.setLayer(layer)

    def threshold(self) -> float:
        """Slider position as a score in 0..1."""
        return self.slider.value() / SLIDER_STEPS

    def set_threshold(self, min_score: float) -> None:
        """Move the slider (and so filter), as the user would."""
        self.slider.setValue(int(round(min(max(min_score, 0.0), 1.0) * SLIDER_STEPS)))

    def shown_classes(self):
        """The ticked size classes, or None when every class is shown (or the layer has none)."""
        ticked = tuple(name for name, box in self.class_boxes.items() if box.isChecked())
        return None if len(ticked) == len(self.class_boxes) else ticked

    def class_text(self) -> str:
        """The size classes and their counts at the slider, e.g. 'light 2 · narrow body 5'."""
        return " \u00b7 ".join(box.text() for box in self.class_boxes.values())

    def count_text(self) -> str:
        """What the dock says, e.g. '7 of 12 aircraft visible'."""
        return self.count_label.text()

    def _on_layers_removed(self, _layer_ids) -> None:
        """The filtered layer went away: take the next detection layer rather than none."""
        if self.layer() is None:
            self.restore()

    def _remember(self, layer) -> None:
        """Mark layer as the dock's, and only it (a layer property: it does not mark the project dirty)."""
        for other in self.project.mapLayers().values():
            if other is not layer and other.customProperty(DOCK_LAYER_PROPERTY):
                other.removeCustomProperty(DOCK_LAYER_PROPERTY)
        if not layer.customProperty(DOCK_LAYER_PROPERTY):
            layer.setCustomProperty(DOCK_LAYER_PROPERTY, True)

    def _on_layer_changed(self, layer) -> None:
        """Show the new layer's own threshold and count without changing its filter."""
        usable = has_score_field(layer)
        self.slider.setEnabled(usable)
        if not usable:
            self._build_class_boxes(None)
            self.count_label.setText("Choose a detection layer (one with a score field).")
            return
        self._remember(layer)
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(current_min_score(layer) * SLIDER_STEPS)))
        self.slider.blockSignals(False)
        self._build_class_boxes(layer)
        self._apply()

    def _build_class_boxes(self, layer) -> None:
        """One ticked checkbox per size class present in the layer (known classes first), as last shown."""
        for box in self.class_boxes.values():
            self.class_row.removeWidget(box)
            box.deleteLater()
        self.class_boxes = {}
        self._table = size_class_table(layer) if has_size_classes(layer) else []
        present = {size_class for _score, size_class in self._table}
        names = [c for c in SIZE_CLASSES if c in present] + sorted(present.difference(SIZE_CLASSES))
        shown = current_size_classes(layer) if names else None
        for name in names:
            box = QCheckBox(name)
            box.setChecked(shown is None or name in shown)
            box.toggled.connect(lambda _checked: self._apply())
            self.class_row.addWidget(box)
            self.class_boxes[name] = box
        self.class_panel.setVisible(bool(names))

    def _on_slider_moved(self, _value: int) -> None:
        self._apply()

    def _apply(self) -> None:
        """Re-filter the layer on score and update the count."""
        self.value_label.setText(f"{self.threshold():.2f}")
        layer = self.layer()
        if layer is None:
            return
        try:
            visible, total = apply_score_filter(layer, self.threshold(), self.shown_classes())
        except ValueError as exc:
            self.count_label.setText(str(exc))
            return
        counts = class_counts(self._table, self.threshold())
        for name, box in self.class_boxes.items():
            box.setText(f"{name} {counts.get(name, 0)}")
        self.count_label.setText(f"{visible} of {total} aircraft visible")
