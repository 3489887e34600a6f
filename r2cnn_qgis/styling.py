"""Name and style every detection layer alike, from the toolbox, a model or the toolbar button.

resources/styles/aircraft.qml holds what reads the attributes (aliases, 3-decimal scores, the display
expression, map tips); the code here draws: score classes that start at the run's threshold, outlines
with a dark halo (visible on concrete and on dark ground), and score labels once zoomed in.
"""
from __future__ import annotations

from collections.abc import Callable

from qgis.core import (
    Qgis,
    QgsFillSymbol,
    QgsGraduatedSymbolRenderer,
    QgsLabelObstacleSettings,
    QgsMapLayer,
    QgsMessageLog,
    QgsPalLayerSettings,
    QgsProcessingLayerPostProcessorInterface,
    QgsProperty,
    QgsRendererRange,
    QgsSimpleFillSymbolLayer,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont

from .detection_features import SCORE_FIELD
from .paths import style_path
from .score_filter import RECOMMENDED_PROPERTY

LOG_TAG = "R2-CNN"
CLASS_BREAKS = (0.5, 0.7, 0.85)  # a class boundary means the same score whatever the run's threshold
CLASS_COLOURS = ("#00e5ff", "#ffe000", "#ff8c00", "#e31a1c")  # lowest to highest class
HALO_COLOUR = QColor(0, 0, 0, 200)
LABEL_MAX_SCALE = 15000  # score labels appear from 1:15,000 inwards, where they no longer pile up
LABEL_OBSTACLE_FACTOR = 2.0  # the top of QGIS's range (weight 10 in the layer properties): never over a box
LABEL_TOP_PRIORITY = 9  # a score of 1; below the obstacle weight, else the best labels would cover boxes
DEFAULT_MIN_SCORE = 0.3  # where the colour classes start when a layer's threshold is unknown
STYLE_NAME = "aircraft"  # the default style stored inside a saved GeoPackage (table layer_styles)
STYLE_DESCRIPTION = "R2-CNN aircraft: score classes, labels, map tips"
_STYLE = QgsMapLayer.StyleCategory
QML_CATEGORIES = _STYLE.LayerConfiguration | _STYLE.Fields | _STYLE.Forms | _STYLE.MapTips
# Post-processors must outlive the algorithm object that created them (Processing calls them later).
_PENDING_POST_PROCESSORS: set = set()


def result_layer_name(raster_name: str) -> str:
    """'Aircraft – <raster name>', with an en dash, as the issue asks."""
    return f"Aircraft \u2013 {raster_name}"


def score_classes(min_score: float) -> list[tuple[float, float]]:
    """(lower, upper) score classes from the run's threshold to 1: no class can stay empty by design."""
    low = min(max(float(min_score), 0.0), 0.99)
    edges = [low] + [edge for edge in CLASS_BREAKS if edge > low + 0.02] + [1.0]
    if len(edges) == 2 and 1.0 - low >= 0.04:  # a high threshold still gets two shades
        edges.insert(1, round((low + 1.0) / 2, 3))
    return list(zip(edges[:-1], edges[1:], strict=True))


def outline_symbol(colour: str) -> QgsFillSymbol:
    """A box outline over a wider dark halo, no fill: the aircraft stays visible inside it."""
    halo = {"style": "no", "outline_color": HALO_COLOUR.name(QColor.NameFormat.HexArgb), "outline_width": "1.2"}
    line = {"style": "no", "outline_color": colour, "outline_width": "0.5"}
    symbol = QgsFillSymbol.createSimple(halo)
    symbol.appendSymbolLayer(QgsSimpleFillSymbolLayer.create(line))
    return symbol


def score_renderer(min_score: float) -> QgsGraduatedSymbolRenderer:
    """Graduated on score; the highest class is always red, lower ones take the next colours down."""
    classes = score_classes(min_score)
    colours = CLASS_COLOURS[-len(classes):]  # at most len(CLASS_BREAKS) + 1 classes, one colour each
    ranges = [
        QgsRendererRange(lower, upper, outline_symbol(colour), f"{lower:.2f} \u2013 {upper:.2f}")
        for (lower, upper), colour in zip(classes, colours, strict=True)
    ]
    return QgsGraduatedSymbolRenderer(SCORE_FIELD, ranges)


def score_labeling(max_scale: float = LABEL_MAX_SCALE) -> QgsVectorLayerSimpleLabeling:
    """The score beside each box, white on a dark buffer, only at scales larger than 1:max_scale.

    On a dense apron there is not room for every label: the boxes are obstacles labels never cover, and
    higher scores are placed first, so the labels left out are the low scores (map tips still show them).
    """
    settings = QgsPalLayerSettings()
    settings.fieldName = f'format_number("{SCORE_FIELD}", 2)'
    settings.isExpression = True
    settings.placement = QgsPalLayerSettings.Placement.OutsidePolygons
    obstacles = settings.obstacleSettings()
    obstacles.setIsObstacle(True)
    obstacles.setType(QgsLabelObstacleSettings.ObstacleType.PolygonWhole)
    obstacles.setFactor(LABEL_OBSTACLE_FACTOR)
    settings.setObstacleSettings(obstacles)
    settings.dataDefinedProperties().setProperty(
        QgsPalLayerSettings.Property.Priority,
        QgsProperty.fromExpression(f'round("{SCORE_FIELD}" * {LABEL_TOP_PRIORITY})'),
    )
    settings.scaleVisibility = True
    settings.minimumScale = max_scale  # the most zoomed-out scale at which labels show
    settings.maximumScale = 0
    text = QgsTextFormat()
    text.setFont(QFont("DejaVu Sans"))
    text.setSize(8)
    text.setColor(QColor("white"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor(20, 20, 20))
    text.setBuffer(buffer)
    settings.setFormat(text)
    return QgsVectorLayerSimpleLabeling(settings)


def apply_aircraft_style(layer: QgsVectorLayer, min_score: float = DEFAULT_MIN_SCORE,
                         recommended_score: float | None = None) -> bool:
    """The QML's attribute settings, then classes from min_score and labels; False (and a log line) on failure.

    recommended_score (the model's) is where the confidence slider starts on this layer.
    """
    if recommended_score is not None:
        layer.setCustomProperty(RECOMMENDED_PROPERTY, max(float(recommended_score), float(min_score)))
    message, ok = layer.loadNamedStyle(str(style_path()), QML_CATEGORIES)
    if not ok:
        QgsMessageLog.logMessage(f"could not apply {style_path()}: {message}", LOG_TAG, Qgis.MessageLevel.Warning)
        return False
    layer.setRenderer(score_renderer(min_score))
    layer.setLabeling(score_labeling())
    layer.setLabelsEnabled(True)
    layer.triggerRepaint()
    return True


def store_default_style(layer: QgsVectorLayer) -> str | None:
    """Save the layer's style in its GeoPackage as the default, so any later open shows classes and labels.

    Returns why it could not (None when stored, or when the layer is not in a GeoPackage).
    """
    provider = layer.dataProvider()
    if layer.providerType() != "ogr" or provider is None or provider.storageType() != "GPKG":
        return None
    if not provider.isSaveAndLoadStyleToDatabaseSupported():
        return "this GeoPackage cannot hold styles"
    error = layer.saveStyleToDatabase(STYLE_NAME, STYLE_DESCRIPTION, True, "")
    if error:
        QgsMessageLog.logMessage(f"could not store the style in {layer.source()}: {error}", LOG_TAG,
                                 Qgis.MessageLevel.Warning)
    return error or None


def style_file_output(destination: str, style: Callable[[QgsVectorLayer], bool]) -> str | None:
    """A Processing output written to a .gpkg gets style(layer) as its default (None when done or n/a).

    Runs after the sink is closed, also where no layer is loaded (qgis_process, batch to files).
    """
    if not destination.split("|", 1)[0].lower().endswith(".gpkg"):
        return None
    layer = QgsVectorLayer(destination, "output", "ogr")
    if not layer.isValid():
        return f"{destination} cannot be read back"
    if not style(layer):
        return "the style could not be applied"
    return store_default_style(layer)


def apply_outline_style(layer: QgsVectorLayer, colour: str) -> bool:
    """One coloured outline over a dark halo for every box (the evaluation's error layers)."""
    layer.setRenderer(QgsSingleSymbolRenderer(outline_symbol(colour)))
    layer.triggerRepaint()
    return True


def expand_legend(project, layer) -> None:
    """Show the score classes in the Layers panel right away.

    A new node already says expanded, but the Layers panel only expanded it before its legend rows
    existed; flipping the flag makes the panel apply it again.
    """
    node = project.layerTreeRoot().findLayer(layer.id())
    if node is not None:
        node.setExpanded(False)
        node.setExpanded(True)


class AircraftStylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Applied by Processing when it loads the OUTPUT layer into the project (toolbox, batch, modeler)."""

    def __init__(self, layer_name: str, min_score: float = DEFAULT_MIN_SCORE,
                 recommended_score: float | None = None):
        super().__init__()
        self.layer_name = layer_name
        self.min_score = min_score
        self.recommended_score = recommended_score

    @classmethod
    def create(cls, layer_name: str, min_score: float = DEFAULT_MIN_SCORE,
               recommended_score: float | None = None) -> AircraftStylePostProcessor:
        """Build one and keep a Python reference until Processing has used it."""
        processor = cls(layer_name, min_score, recommended_score)
        _PENDING_POST_PROCESSORS.add(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback):
        """Rename, style, expand, make active; runs in the main thread once the layer is in the project."""
        _PENDING_POST_PROCESSORS.discard(self)
        if not isinstance(layer, QgsVectorLayer):
            return
        layer.setName(self.layer_name)
        apply_aircraft_style(layer, self.min_score, self.recommended_score)
        if context.project() is not None:
            expand_legend(context.project(), layer)
        from qgis.utils import iface  # None outside the QGIS application (tests, qgis_process)

        if iface is not None:
            iface.setActiveLayer(layer)
