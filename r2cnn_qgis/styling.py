"""Name and style every detection layer alike, from the toolbox, a model or the toolbar button."""
from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsMessageLog,
    QgsProcessingLayerPostProcessorInterface,
    QgsVectorLayer,
)

from .paths import style_path

LOG_TAG = "R2-CNN"
# Post-processors must outlive the algorithm object that created them (Processing calls them later).
_PENDING_POST_PROCESSORS: set = set()


def result_layer_name(raster_name: str) -> str:
    """'Aircraft – <raster name>', with an en dash, as the issue asks."""
    return f"Aircraft \u2013 {raster_name}"


def apply_aircraft_style(layer: QgsVectorLayer) -> bool:
    """Outlined boxes coloured by score, score as the display field; False (and a log line) when it fails."""
    message, ok = layer.loadNamedStyle(str(style_path()))
    if not ok:
        QgsMessageLog.logMessage(f"could not apply {style_path()}: {message}", LOG_TAG, Qgis.Warning)
        return False
    layer.triggerRepaint()
    return True


class AircraftStylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Applied by Processing when it loads the OUTPUT layer into the project (toolbox, batch, modeler)."""

    def __init__(self, layer_name: str):
        super().__init__()
        self.layer_name = layer_name

    @classmethod
    def create(cls, layer_name: str) -> AircraftStylePostProcessor:
        """Build one and keep a Python reference until Processing has used it."""
        processor = cls(layer_name)
        _PENDING_POST_PROCESSORS.add(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback):
        """Rename and style; runs in the main thread after the algorithm finished."""
        _PENDING_POST_PROCESSORS.discard(self)
        if isinstance(layer, QgsVectorLayer):
            layer.setName(self.layer_name)
            apply_aircraft_style(layer)
