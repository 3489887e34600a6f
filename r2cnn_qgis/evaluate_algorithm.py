"""The Processing algorithm "Evaluate aircraft detections": a detection layer against reference polygons ->
true positive, false positive and false negative layers (styled), an HTML report and the headline figures.
Matching and metrics are the engine's (the CLI's `r2cnn evaluate --detections`); QGIS only reads and writes."""
from __future__ import annotations

import math

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureSink,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant
from qgis.PyQt.QtGui import QIcon

from .dependencies import ensure_engine_importable
from .detection_features import qgis_fields
from .help_text import help_url, panel_html
from .parameter_display import two_decimals, with_help
from .paths import icon_path
from .styling import apply_outline_style, style_file_output

ensure_engine_importable()

import numpy as np  # noqa: E402

from engine.evaluation.box_errors import error_rows  # noqa: E402
from engine.evaluation.labelled_scoring import score_map_boxes  # noqa: E402
from engine.evaluation.report_content import headline, to_text  # noqa: E402
from engine.outputs.fields import ERROR_FIELDS, ERROR_LAYERS, SCORE  # noqa: E402

DOUBLE = QgsProcessingParameterNumber.Type.Double
# (output name, title, outline colour), one per engine error layer (ERROR_LAYERS, in that order): the errors
# read at a glance, over any background
ERROR_OUTPUTS = (
    ("TRUE_POSITIVES", "True positives", "#1a9850"),
    ("FALSE_POSITIVES", "False positives", "#d73027"),
    ("FALSE_NEGATIVES", "False negatives (missed references)", "#ff00ff"),
)
NUMBERS = (("AP50", "VOC AP50"), ("RECALL", "Recall"), ("PRECISION", "Precision"), ("F1", "F1 score"),
           ("TP", "True positives"), ("FP", "False positives"), ("FN", "False negatives"),
           ("REFERENCES", "Reference polygons"))
_PENDING: set = set()  # post-processors must outlive the algorithm object (Processing calls them later)

HELP_PAGE = "evaluate_detections"  # r2cnn_qgis/help/evaluate_detections.html


class EvaluateDetectionsAlgorithm(QgsProcessingAlgorithm):
    """Detections vs references without running a model; chains after Detect aircraft in the modeler."""

    DETECTIONS, SCORE_FIELD, REFERENCE = "DETECTIONS", "SCORE_FIELD", "REFERENCE"
    CLASS_FIELD, CLASS_VALUE = "CLASS_FIELD", "CLASS_VALUE"
    IOU_THRESHOLD, SCORE_THRESHOLD, REPORT = "IOU_THRESHOLD", "SCORE_THRESHOLD", "REPORT"

    def name(self):
        return "evaluatedetections"

    def displayName(self):
        return "Evaluate aircraft detections"

    def group(self):
        return "Object detection"

    def groupId(self):
        return "objectdetection"

    def shortHelpString(self):
        return panel_html(HELP_PAGE)

    def helpUrl(self):
        """The dialog's Help button: the page shipped in the plugin (offline)."""
        return help_url(HELP_PAGE)

    def icon(self):
        return QIcon(str(icon_path()))

    def createInstance(self):
        return EvaluateDetectionsAlgorithm()

    def initAlgorithm(self, config=None):
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(QgsProcessingParameterFeatureSource(self.DETECTIONS, "Detection layer", polygons))
        self.addParameter(QgsProcessingParameterField(
            self.SCORE_FIELD, "Score field (empty: every detection scores 1)", SCORE, self.DETECTIONS,
            QgsProcessingParameterField.DataType.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.REFERENCE, "Reference polygons", polygons))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, "Reference class field", None, self.REFERENCE, optional=True))
        self.addParameter(with_help(QgsProcessingParameterString(
            self.CLASS_VALUE, "Keep references of this class", optional=True), "Needs the reference class field."))
        self.addParameter(two_decimals(QgsProcessingParameterNumber(
            self.IOU_THRESHOLD, "IoU threshold for a match", DOUBLE, 0.5, minValue=0.05, maxValue=1.0)))
        self.addParameter(with_help(two_decimals(QgsProcessingParameterNumber(
            self.SCORE_THRESHOLD, "Score threshold", DOUBLE, 0.0, minValue=0.0, maxValue=1.0)),
            "Detections scoring below it are ignored: the operating point of the figures."))
        for name, title, _ in ERROR_OUTPUTS:
            self.addParameter(QgsProcessingParameterFeatureSink(name, title, polygons[0]))
        self.addParameter(QgsProcessingParameterFileDestination(self.REPORT, "Evaluation report",
                                                                "HTML files (*.html)"))
        for name, title in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(name, title))

    def processAlgorithm(self, parameters, context, feedback):
        """Read both layers into boxes in one metric CRS, score them in the engine, write layers and report."""
        detections = self.parameterAsSource(parameters, self.DETECTIONS, context)
        references = self.parameterAsSource(parameters, self.REFERENCE, context)
        if detections is None or references is None:
            raise QgsProcessingException("Both the detection layer and the reference layer are needed.")
        score_field = self.parameterAsString(parameters, self.SCORE_FIELD, context) or None
        class_field = self.parameterAsString(parameters, self.CLASS_FIELD, context) or None
        class_value = self.parameterAsString(parameters, self.CLASS_VALUE, context) or None
        if class_value is not None and class_field is None:
            raise QgsProcessingException("A class value needs the reference class field.")
        crs = detections.sourceCrs()
        metric = _metric_crs(crs, detections.sourceExtent())
        to_metric = QgsCoordinateTransform(crs, metric, context.transformContext())
        ref_to_metric = QgsCoordinateTransform(references.sourceCrs(), metric, context.transformContext())
        ref_to_output = QgsCoordinateTransform(references.sourceCrs(), crs, context.transformContext())
        notes: list[str] = []
        det = _read(detections, to_metric, feedback, notes, "detection", value_field=score_field)
        ref = _read(references, ref_to_metric, feedback, notes, "reference", class_field, class_value)
        if not len(ref.ids):
            notes.append("the reference layer holds no polygons: every detection counts as a false positive")
        metres = QgsUnitTypes.fromUnitToUnitFactor(metric.mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters)
        score_threshold = self.parameterAsDouble(parameters, self.SCORE_THRESHOLD, context)
        iou = self.parameterAsDouble(parameters, self.IOU_THRESHOLD, context)
        evaluation = score_map_boxes(detections.sourceName(), det.boxes, det.values, det.ids, ref.boxes, ref.ids,
                                     metres, score_threshold, iou, f"reference layer {references.sourceName()}",
                                     detections.sourceName(), notes)
        results = self._write_layers(parameters, context, feedback, evaluation, det, ref, crs, ref_to_output)
        results[self.REPORT] = self._write_report(parameters, context, feedback, evaluation)
        for line in to_text(evaluation).splitlines():
            feedback.pushInfo(line)
        figures = headline(evaluation)
        for name, _ in NUMBERS:
            results[name] = figures[name.lower()]
        return results

    def _write_layers(self, parameters, context, feedback, evaluation, det, ref, crs, ref_to_output) -> dict:
        """The three sinks: detections' own polygons for TP / FP, the references' (reprojected) for FN."""
        rows = error_rows(evaluation.sets[0], evaluation.errors[0])
        true_positive, false_positive, false_negative = ERROR_LAYERS
        geometries = {true_positive: det.geometries, false_positive: det.geometries, false_negative: ref.geometries}
        positions = {true_positive: det.position, false_positive: det.position, false_negative: ref.position}
        fields = qgis_fields(ERROR_FIELDS)
        results = {}
        for (name, title, colour), key in zip(ERROR_OUTPUTS, ERROR_LAYERS, strict=True):
            sink, dest_id = self.parameterAsSink(parameters, name, context, fields, QgsWkbTypes.Type.Polygon, crs)
            if sink is None:
                raise QgsProcessingException(self.invalidSinkError(parameters, name))
            for _box, feature_id, score, iou, matched in rows[key]:
                feature = QgsFeature(fields)
                geometry = geometries[key][positions[key][feature_id]]
                if key == false_negative:
                    geometry = _transformed(geometry, ref_to_output)
                feature.setGeometry(geometry)
                feature.setAttributes([feature_id, score, iou, matched, evaluation.sets[0].name])
                if not sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert):
                    raise QgsProcessingException(f"could not write a {key} feature: {sink.lastError()}")
            del sink  # closes the file, so its default style can be stored beside the features
            problem = style_file_output(dest_id, lambda layer, colour=colour: apply_outline_style(layer, colour))
            if problem:
                feedback.pushWarning(f"{title} has no stored style: {problem}")
            if context.willLoadLayerOnCompletion(dest_id):
                processor = ErrorStylePostProcessor(title, colour)
                _PENDING.add(processor)
                context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(processor)
            results[name] = dest_id
        return results

    def _write_report(self, parameters, context, feedback, evaluation) -> str:
        """The HTML page (PNG figures inside), published whole."""
        from engine.errors import R2cnnError
        from engine.evaluation.report_folder import write_html_report

        path = self.parameterAsFileOutput(parameters, self.REPORT, context)
        try:
            for note in write_html_report(evaluation, path):
                feedback.pushWarning(note)
        except R2cnnError as exc:
            raise QgsProcessingException(str(exc)) from exc
        return path


class _Features:
    """One layer's features as boxes (x0, y0, x1, y1 with y down) in the metric CRS, and their geometries."""

    def __init__(self):
        self.boxes, self.values, self.ids, self.geometries, self.position = [], [], [], [], {}


def _read(source, transform, feedback, notes, role, class_field=None, class_value=None, value_field=None):
    """Envelopes of the polygons (class-filtered), reprojected; empty geometries and null scores noted."""
    out, empty, null_scores, other_class = _Features(), 0, 0, 0
    total = max(source.featureCount(), 1)
    for index, feature in enumerate(source.getFeatures()):
        if feedback.isCanceled():
            raise QgsProcessingException("Cancelled.")
        if class_field is not None and class_value is not None and str(feature[class_field]) != class_value:
            other_class += 1
            continue
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            empty += 1
            continue
        rect = _transformed(geometry, transform).boundingBox()
        value = 1.0
        if value_field is not None:
            raw = feature[value_field]
            value = float(raw) if raw is not None and not _is_null(raw) else 0.0
            null_scores += raw is None or _is_null(raw)
        out.position[feature.id()] = len(out.geometries)
        out.boxes.append((rect.xMinimum(), -rect.yMaximum(), rect.xMaximum(), -rect.yMinimum()))
        out.values.append(value)
        out.ids.append(feature.id())
        out.geometries.append(geometry)
        feedback.setProgress(50.0 * (index + 1) / total if role == "detection" else 50.0 + 50.0 * (index + 1) / total)
    notes += [f"{empty} {role} feature(s) without geometry left out"] if empty else []
    notes += [f"{null_scores} detection(s) without a score counted as 0"] if null_scores else []
    notes += [f"{other_class} reference(s) of other classes left out"] if other_class else []
    out.boxes = np.asarray(out.boxes, np.float64).reshape(-1, 4)
    out.values, out.ids = np.asarray(out.values, np.float64), np.asarray(out.ids, np.int64)
    return out


def _is_null(value) -> bool:
    """QGIS hands NULL attributes over as a null QVariant."""
    return isinstance(value, QVariant) and value.isNull()


def _transformed(geometry, transform):
    """A reprojected copy (the same geometry when no transform is needed)."""
    if not transform.isValid() or transform.sourceCrs() == transform.destinationCrs():
        return geometry
    copy = type(geometry)(geometry)
    copy.transform(transform)
    return copy


def _metric_crs(crs: QgsCoordinateReferenceSystem, extent) -> QgsCoordinateReferenceSystem:
    """The layer's CRS when projected; a geographic one becomes the UTM zone of the layer's centre."""
    if crs.isValid() and not crs.isGeographic():
        return crs
    lon, lat = (extent.center().x(), extent.center().y()) if not extent.isNull() else (0.0, 0.0)
    zone = min(60, max(1, int(math.floor((lon + 180.0) / 6.0)) + 1))
    return QgsCoordinateReferenceSystem(f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}")


class ErrorStylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Names the layer and draws its boxes as one coloured outline over a dark halo (styling.outline_symbol)."""

    def __init__(self, name: str, colour: str):
        super().__init__()
        self.name, self.colour = name, colour

    def postProcessLayer(self, layer, context, feedback):
        _PENDING.discard(self)
        if isinstance(layer, QgsVectorLayer):
            layer.setName(self.name)
            apply_outline_style(layer, self.colour)
