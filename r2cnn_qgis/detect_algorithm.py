"""The Processing algorithm: parameters -> DetectConfig -> engine detect_raster -> feature sink; no GUI."""
from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureSink,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QIcon

from .dependencies import ensure_engine_importable, missing_dependency_message
from .detection_features import detection_fields, scene_features
from .help_text import help_url, panel_html
from .parameter_display import two_decimals, with_help
from .paths import icon_path
from .styling import AircraftStylePostProcessor, apply_aircraft_style, result_layer_name, style_file_output

ensure_engine_importable()

from engine.config import DetectConfig  # noqa: E402 - needs the sys.path entry above
from engine.contract import DEVICES, PRECISIONS, RUNTIMES  # noqa: E402
from engine.errors import DetectionCancelled, R2cnnError, SettingsError  # noqa: E402
from engine.runtime.run_settings import check_tile_size  # noqa: E402

PRECISION_LABELS = (  # one per PRECISIONS entry, same order
    "Automatic (INT8 on CPUs that run it exactly, else fp32)",
    "INT8 (faster on CPU)",
    "fp32 (reference)",
)
HELP_PAGE = "detect_aircraft"  # r2cnn_qgis/help/detect_aircraft.html
DOUBLE = QgsProcessingParameterNumber.Type.Double
INTEGER = QgsProcessingParameterNumber.Type.Integer


class DetectAircraftAlgorithm(QgsProcessingAlgorithm):
    """Finds aircraft in one raster; runs in the toolbox, the modeler, batch mode and background tasks."""

    INPUT = "INPUT"
    BANDS = "BANDS"
    MODEL = "MODEL"
    SCORE_THRESHOLD = "SCORE_THRESHOLD"
    USE_GATE = "USE_GATE"
    USE_CASCADE = "USE_CASCADE"
    GATE_THRESHOLD = "GATE_THRESHOLD"
    DEVICE = "DEVICE"
    PRECISION = "PRECISION"
    RUNTIME = "RUNTIME"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    EXTENT = "EXTENT"
    OUTPUT = "OUTPUT"
    DETECTIONS = "DETECTIONS"
    RECOMMENDED_SCORE = "RECOMMENDED_SCORE"

    def __init__(self):
        super().__init__()
        self._raster_path: str | None = None
        self._raster_name = ""
        self._raster_crs = QgsCoordinateReferenceSystem()
        self._config: DetectConfig | None = None
        self._refusal: str | None = None

    def name(self):
        return "detectaircraft"

    def displayName(self):
        return "Detect aircraft"

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
        return DetectAircraftAlgorithm()

    def initAlgorithm(self, config=None):
        """The parameters of issue #5; optional numbers left unset mean 'what the model recommends'.

        Every parameter added after the first release is optional with a default, so a model (.model3)
        saved with an older version, which does not name it, still validates in the modeler.
        """
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster"))
        self.addParameter(with_help(
            QgsProcessingParameterBand(
                self.BANDS, "Bands (empty: automatic)", None, self.INPUT, optional=True, allowMultiple=True,
            ), "Red, green and blue in that order, or one grey band."))
        self.addParameter(with_help(
            QgsProcessingParameterFile(
                self.MODEL, "Model file (empty: the bundled model)", optional=True,
                fileFilter="ONNX models (*.onnx)",
            ), "An r2cnn .onnx file."))
        self.addParameter(
            two_decimals(QgsProcessingParameterNumber(
                self.SCORE_THRESHOLD, "Minimum score kept (empty: the model's)", DOUBLE,
                optional=True, minValue=0.0, maxValue=1.0,
            ))
        )
        self.addParameter(QgsProcessingParameterBoolean(self.USE_GATE, "Skip patches the gate rejects", True))
        self.addParameter(with_help(
            QgsProcessingParameterBoolean(self.USE_CASCADE, "Cascade: first look at low resolution", False, True),
            "A first look on a decimated view: the trunk runs only where it may find aircraft",
        ))
        self.addParameter(
            two_decimals(QgsProcessingParameterNumber(
                self.GATE_THRESHOLD, "Gate threshold (empty: the model's)", DOUBLE,
                optional=True, minValue=0.0, maxValue=1.0,
            ))
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.DEVICE, "Device", options=list(DEVICES), defaultValue=0)
        )
        self.addParameter(with_help(
            QgsProcessingParameterEnum(
                self.PRECISION, "Precision of the bundled model", options=list(PRECISION_LABELS),
                defaultValue=0, optional=True,
            ), "Ignored with a model file."))
        self.addParameter(with_help(
            QgsProcessingParameterEnum(
                self.RUNTIME, "Runtime", options=list(RUNTIMES), defaultValue=0, optional=True,
            ), "auto: OpenVINO on the CPU when it is installed, else ONNX Runtime."))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.TILE_SIZE, "Tile size in pixels (empty: the model's)", INTEGER,
                optional=True, minValue=1, maxValue=4096,  # the engine's check_tile_size says what is too small
            )
        )
        self.addParameter(
            two_decimals(QgsProcessingParameterNumber(
                self.OVERLAP, "Tile overlap, fraction (empty: the model's)", DOUBLE,
                optional=True, minValue=0.0, maxValue=0.9,
            ))
        )
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, "Processing extent", optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.OUTPUT, "Aircraft", QgsProcessing.SourceType.TypeVectorPolygon)
        )
        self.addOutput(QgsProcessingOutputNumber(self.DETECTIONS, "Number of aircraft detected"))
        self.addOutput(QgsProcessingOutputNumber(self.SCORE_THRESHOLD, "Minimum score the run kept"))
        self.addOutput(QgsProcessingOutputNumber(self.RECOMMENDED_SCORE, "The model's recommended score"))

    def checkParameterValues(self, parameters, context):
        """A missing dependency is refused before the run, where every caller says it once.

        qgis_process prints it on one line, the toolbox dialog in its message box; a refusal raised from
        the run is reported by QGIS twice (log and error stream).
        """
        missing = missing_dependency_message()
        if missing:
            return False, missing
        return super().checkParameterValues(parameters, context)

    def prepareAlgorithm(self, parameters, context, feedback):
        """Main thread: read the layer and parameters into a DetectConfig; a refusal is raised later.

        processing.run() and the task runner drop the message of an exception raised here, so it is
        kept and raised by processAlgorithm, where every caller shows it.
        """
        self._refusal = None
        try:
            self._prepare(parameters, context)
        except QgsProcessingException as exc:
            self._refusal = str(exc)
        return True

    def _prepare(self, parameters, context) -> None:
        """Everything prepareAlgorithm needs from the main thread; QgsProcessingException when refused."""
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.INPUT))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                f"'{layer.name()}' is a {layer.providerType()} layer; aircraft detection reads rasters "
                "through GDAL, so it needs a file-based raster (GeoTIFF, JPEG2000, VRT, ...)."
            )
        missing = missing_dependency_message()
        if missing:
            raise QgsProcessingException(missing)
        self._raster_path = layer.source()
        self._raster_name = layer.name()
        self._raster_crs = layer.crs()
        tile_size = self._optional_number(parameters, self.TILE_SIZE, context, integer=True)
        try:
            check_tile_size(tile_size)  # the fixed patch size of a model is checked once it is loaded
        except SettingsError as exc:
            raise QgsProcessingException(str(exc)) from exc
        self._config = DetectConfig(
            model_path=self._model_path(parameters, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            precision=PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)],
            runtime=RUNTIMES[self.parameterAsEnum(parameters, self.RUNTIME, context)],
            score_threshold=self._optional_number(parameters, self.SCORE_THRESHOLD, context),
            gate_threshold=self._optional_number(parameters, self.GATE_THRESHOLD, context),
            use_gate=self.parameterAsBoolean(parameters, self.USE_GATE, context),
            cascade=self.parameterAsBoolean(parameters, self.USE_CASCADE, context),
            tile_size=tile_size,
            overlap=self._optional_number(parameters, self.OVERLAP, context),
            bands=tuple(self.parameterAsInts(parameters, self.BANDS, context)) or None,
            extent_map=self._extent_in_raster_crs(parameters, context, layer),
        )

    def processAlgorithm(self, parameters, context, feedback):
        """Any thread: the engine with progress / cancel / log wired to the feedback, then the sink."""
        if self._refusal:
            raise QgsProcessingException(self._refusal)
        try:
            from engine.pipeline.detect import detect_raster
        except ImportError as exc:
            message = missing_dependency_message() or f"the r2cnn engine failed to load: {exc}"
            raise QgsProcessingException(message) from exc
        feedback.pushInfo(f"Detecting aircraft in {self._raster_path}")
        try:
            scene = detect_raster(
                self._raster_path, self._config,
                progress=feedback.setProgress, should_stop=feedback.isCanceled, log=_engine_log(feedback),
            )
        except DetectionCancelled:
            feedback.pushInfo("Cancelled: no output was written.")
            return {}
        except R2cnnError as exc:
            raise QgsProcessingException(str(exc)) from exc

        crs = self._raster_crs
        if not crs.isValid() and scene.crs_wkt:
            crs = QgsCoordinateReferenceSystem.fromWkt(scene.crs_wkt)
        fields = detection_fields()
        sink, dest_id = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, QgsWkbTypes.Type.Polygon, crs
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        for feature in scene_features(scene, fields):
            if not sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert):
                raise QgsProcessingException(f"could not write a detection: {sink.lastError()}")
        del sink  # closes the file, so its default style can be stored beside the features
        stats = scene.stats
        problem = style_file_output(
            dest_id, lambda layer: apply_aircraft_style(layer, stats.score_threshold, stats.model_score_threshold))
        if problem:
            feedback.pushWarning(f"The output has no stored style: {problem}")
        if context.willLoadLayerOnCompletion(dest_id):
            details = context.layerToLoadOnCompletionDetails(dest_id)
            name = result_layer_name(self._raster_name)
            details.setPostProcessor(AircraftStylePostProcessor.create(
                name, scene.stats.score_threshold, scene.stats.model_score_threshold))
        self._log_stats(scene, feedback)
        kept = scene.stats.score_threshold  # the model's when the parameter was left empty
        return {self.OUTPUT: dest_id, self.DETECTIONS: len(scene.scores), self.SCORE_THRESHOLD: kept,
                self.RECOMMENDED_SCORE: scene.stats.model_score_threshold}

    def _model_path(self, parameters, context) -> str | None:
        """The MODEL file; None: the engine picks the bundled model for the precision (or says it is missing)."""
        return self.parameterAsFile(parameters, self.MODEL, context) or None

    def _optional_number(self, parameters, name, context, integer=False):
        """None when unset (the engine then uses the model's value); parameterAsDouble would say 0."""
        if parameters.get(name) in (None, ""):
            return None
        if integer:
            return self.parameterAsInt(parameters, name, context)
        return self.parameterAsDouble(parameters, name, context)

    def _extent_in_raster_crs(self, parameters, context, layer) -> tuple[float, float, float, float] | None:
        """EXTENT reprojected (bounding box) into the raster CRS, the only CRS the engine knows."""
        if parameters.get(self.EXTENT) in (None, ""):
            return None
        rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
        if rect.isNull():
            return None
        if not rect.intersects(layer.extent()):
            raise QgsProcessingException("The processing extent does not overlap the input raster.")
        return (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())

    @staticmethod
    def _log_stats(scene, feedback) -> None:
        """Device and patch counts, so a slow or empty run can be explained from the log."""
        stats = scene.stats
        gate = f"gate threshold {stats.gate_threshold:g}" if stats.gated else "gate off"
        if stats.cascade:
            gate += f", {stats.patches_cascade_passed} passed by the cascade"
        feedback.pushInfo(
            f"Model: {stats.model_file or 'torch checkpoint'} on {stats.device} ({stats.runtime}, {stats.precision}). "
            f"Patches: {stats.patches_total} of {stats.tile_size_px} px, "
            f"{stats.patches_skipped_nodata} skipped as nodata, {stats.patches_passed_gate} through the "
            f"detector ({gate}). {stats.detections} aircraft with score >= {stats.score_threshold:g} "
            f"in {stats.stage_seconds.get('total', 0.0):.1f} s."
        )


def _engine_log(feedback):
    """Engine lines go to the Processing log; its 'warning: ...' lines become Processing warnings."""

    def log(message: str) -> None:
        if message.startswith("warning: "):
            feedback.pushWarning(message[len("warning: "):])
        else:
            feedback.pushInfo(message)

    return log
