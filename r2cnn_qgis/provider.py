"""The Processing provider `r2cnn`: Detect aircraft, Evaluate aircraft detections and Aircraft activity over
time, usable from the toolbox, modeler, batch and scripts."""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .paths import icon_path, plugin_version

PROVIDER_ID = "r2cnn"


class R2cnnProvider(QgsProcessingProvider):
    """Holds the algorithms; the plugin adds it to the registry in initProcessing()."""

    def id(self):
        return PROVIDER_ID

    def name(self):
        return "R2-CNN aircraft detection"

    def longName(self):
        return self.name()

    def icon(self):
        return QIcon(str(icon_path()))

    def svgIconPath(self):
        return str(icon_path())

    def versionInfo(self):
        """What qgis_process and the Processing options show as the provider's version."""
        return plugin_version()

    def loadAlgorithms(self):
        """Imported here so the engine is only loaded when Processing asks for the algorithms."""
        from .activity_algorithm import AircraftActivityAlgorithm
        from .detect_algorithm import DetectAircraftAlgorithm
        from .evaluate_algorithm import EvaluateDetectionsAlgorithm

        self.addAlgorithm(DetectAircraftAlgorithm())
        self.addAlgorithm(EvaluateDetectionsAlgorithm())
        self.addAlgorithm(AircraftActivityAlgorithm())
