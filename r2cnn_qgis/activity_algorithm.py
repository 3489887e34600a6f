"""The Processing algorithm "Aircraft activity over time": a set of detection layers (one per scene) -> aircraft
per site and date, arrivals and departures (activity.csv / .gpkg / .png in a folder), as `r2cnn activity`.
The summary is the engine's (engine.archive.activity); QGIS only hands it the layers as files."""
from __future__ import annotations

import os

from qgis.core import (
    QgsCoordinateTransformContext,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QIcon

from .dependencies import ensure_engine_importable
from .paths import icon_path

ensure_engine_importable()

from engine.archive.activity import (  # noqa: E402
    DEFAULT_CLUSTER_M,
    DEFAULT_MATCH_IOU,
    ActivitySettings,
    SceneInput,
    summarise,
)
from engine.archive.activity_outputs import write_activity  # noqa: E402
from engine.archive.scene_dates import compile_pattern, layer_date  # noqa: E402
from engine.errors import R2cnnError  # noqa: E402
from engine.outputs.fields import SOURCE  # noqa: E402

DOUBLE = QgsProcessingParameterNumber.Type.Double
HELP_HTML = " ".join("""
<p>Counts the aircraft at each site on each date over a set of detection layers, one per scene (for example
<i>Detect aircraft</i> run in batch mode over an archive), and finds those that <b>arrived</b> or
<b>departed</b> between a site's consecutive dates, matched on the ground (box IoU at least the match
threshold, so a few metres of registration error between scenes do not count as movement).</p>
<p><b>Sites</b>: a polygon layer (any CRS) and its name field; without it, detections closer than the cluster
distance form one site. <b>Dates</b>: the raster named in a layer's <i>source</i> field when it lies beside
the layer file (its metadata: acquisition time, DIMAP / IMD / GF-1 XML, TIFF date), else a date in the layer's
or the file's name; the date pattern (a regular expression, its first group holding YYYYMMDD or
YYYY-MM-DD) overrides both. Layers without a date are listed in the log, not guessed.</p>
<p>Writes activity.csv (site, date, aircraft), activity.gpkg (layers sites, site_counts, changes) and
activity.png (aircraft over time, one line per site) in the output folder.</p>
""".split())


class AircraftActivityAlgorithm(QgsProcessingAlgorithm):
    """Thin glue over engine.archive.activity: layers to files, the summary, its files."""

    DETECTIONS, SITES, NAME_FIELD, DATE_PATTERN = "DETECTIONS", "SITES", "NAME_FIELD", "DATE_PATTERN"
    CLUSTER_DISTANCE, MATCH_IOU, OUTPUT = "CLUSTER_DISTANCE", "MATCH_IOU", "OUTPUT"

    def name(self):
        return "aircraftactivity"

    def displayName(self):
        return "Aircraft activity over time"

    def group(self):
        return "Object detection"

    def groupId(self):
        return "objectdetection"

    def shortHelpString(self):
        return HELP_HTML

    def icon(self):
        return QIcon(str(icon_path()))

    def createInstance(self):
        return AircraftActivityAlgorithm()

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.DETECTIONS, "Detection layers (one per scene)", QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SITES, "Sites (optional; default: clusters of detections)",
            [QgsProcessing.SourceType.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.NAME_FIELD, "Site name field", None, self.SITES, optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.DATE_PATTERN, "Date pattern (regular expression on the layer names)", optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.CLUSTER_DISTANCE, "Cluster distance without sites (m)", DOUBLE, DEFAULT_CLUSTER_M, minValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.MATCH_IOU, "Match threshold between dates (IoU on the ground)", DOUBLE, DEFAULT_MATCH_IOU,
            minValue=0.01, maxValue=1.0))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT, "Output folder"))
        self.addOutput(QgsProcessingOutputFile("CSV", "activity.csv"))
        self.addOutput(QgsProcessingOutputFile("GPKG", "activity.gpkg"))
        self.addOutput(QgsProcessingOutputFile("PNG", "activity.png"))
        for name, title in (("SITE_COUNT", "Sites"), ("ROWS", "Site-dates"), ("CHANGES", "Arrivals and departures"),
                            ("UNDATED", "Layers without a date")):
            self.addOutput(QgsProcessingOutputNumber(name, title))

    def processAlgorithm(self, parameters, context, feedback):
        layers = self.parameterAsLayerList(parameters, self.DETECTIONS, context)
        if not layers:
            raise QgsProcessingException("Give at least one detection layer.")
        folder = self.parameterAsString(parameters, self.OUTPUT, context)
        scratch = QgsProcessingUtils.tempFolder()
        try:
            pattern = compile_pattern(self.parameterAsString(parameters, self.DATE_PATTERN, context) or None)
            scenes = [_scene(layer, os.path.join(scratch, f"r2cnn_activity_{i}.gpkg"), pattern, context)
                      for i, layer in enumerate(layers)]
            sites = None
            if parameters.get(self.SITES):
                sites_layer = self.parameterAsVectorLayer(parameters, self.SITES, context)
                if sites_layer is None:
                    raise QgsProcessingException("The sites layer cannot be read.")
                sites = _as_file(sites_layer, os.path.join(scratch, "r2cnn_activity_sites.gpkg"), context)
            settings = ActivitySettings(
                sites, self.parameterAsString(parameters, self.NAME_FIELD, context) or None,
                self.parameterAsDouble(parameters, self.CLUSTER_DISTANCE, context),
                self.parameterAsDouble(parameters, self.MATCH_IOU, context),
            )
            activity = summarise(scenes, settings)
            os.makedirs(folder, exist_ok=True)
            paths = write_activity(activity, folder)
        except (R2cnnError, OSError) as exc:
            raise QgsProcessingException(str(exc)) from exc
        for scene, why in activity.undated:
            feedback.reportError(f"no date for {scene}: {why}", fatalError=False)
        for scene, why in activity.unplaced:
            feedback.reportError(f"left out {scene}: {why}", fatalError=False)
        feedback.pushInfo(f"{len(activity.sites)} sites, {len(activity.rows)} site-dates, "
                          f"{len(activity.changes)} arrivals and departures; {paths['csv']}")
        return {self.OUTPUT: folder, "CSV": paths["csv"], "GPKG": paths["gpkg"], "PNG": paths["png"],
                "SITE_COUNT": len(activity.sites), "ROWS": len(activity.rows), "CHANGES": len(activity.changes),
                "UNDATED": len(activity.undated)}


def _scene(layer: QgsVectorLayer, scratch_path: str, pattern, context) -> SceneInput:
    """The layer as a file for the engine, dated from its rasters (source field) or its names."""
    source_file = layer.source().split("|")[0]
    folder = os.path.dirname(source_file) if os.path.isfile(source_file) else ""
    rasters = []
    if SOURCE in layer.fields().names():
        index = layer.fields().indexOf(SOURCE)
        rasters = sorted({str(v) for v in layer.uniqueValues(index) if v})
    names = [layer.name(), *([os.path.basename(source_file)] if folder else []), *rasters]
    dated = layer_date(names, [os.path.join(folder, r) for r in rasters] if folder else [], pattern)
    return SceneInput(layer.name(), _as_file(layer, scratch_path, context), dated)


def _as_file(layer: QgsVectorLayer, path: str, context) -> str:
    """Any vector layer (memory, database, file) written as a GeoPackage the engine reads with OGR."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    transform_context = context.transformContext() if context is not None else QgsCoordinateTransformContext()
    error, message, *_ = QgsVectorFileWriter.writeAsVectorFormatV3(layer, path, transform_context, options)
    if error != QgsVectorFileWriter.WriterError.NoError:
        raise QgsProcessingException(f"cannot read {layer.name()}: {message}")
    return path
