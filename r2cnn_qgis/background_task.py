"""Run the algorithm on a raster as a task-manager task and put the styled result above the raster."""
from __future__ import annotations

from collections.abc import Callable

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from .provider import PROVIDER_ID
from .styling import DEFAULT_MIN_SCORE, apply_aircraft_style, expand_legend, result_layer_name

ALGORITHM_ID = f"{PROVIDER_ID}:detectaircraft"
Notify = Callable[[Qgis.MessageLevel, str], None]
OnResult = Callable[[QgsVectorLayer, str], None]  # the styled layer, now in the project, and "N aircraft found"


class _RecordingFeedback(QgsProcessingFeedback):
    """Keeps the last error the algorithm reported, for the one message the user sees."""

    def __init__(self):
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error, fatalError=False):
        self.errors.append(str(error))
        super().reportError(error, fatalError)


class DetectionRun:
    """One background run: owns the context and feedback until the task reports back in the main thread."""

    def __init__(
        self,
        raster: QgsRasterLayer,
        notify: Notify,
        on_result: OnResult | None = None,
        project: QgsProject | None = None,
        extra_parameters: dict | None = None,
    ):
        self.raster = raster
        self.project = project or QgsProject.instance()
        self.notify = notify
        self.on_result = on_result
        self.parameters = {"INPUT": raster.id(), "OUTPUT": "TEMPORARY_OUTPUT", **(extra_parameters or {})}
        self.context = QgsProcessingContext()
        self.context.setProject(self.project)
        self.feedback = _RecordingFeedback()
        self.task: QgsProcessingAlgRunnerTask | None = None
        self.result_layer: QgsVectorLayer | None = None
        self.done = False

    def start(self) -> QgsProcessingAlgRunnerTask:
        """Queue the task (prepareAlgorithm runs now, in the main thread); returns it for cancel/progress."""
        algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM_ID)
        if algorithm is None:
            raise RuntimeError(f"{ALGORITHM_ID} is not registered (is the R2-CNN provider loaded?)")
        self.task = QgsProcessingAlgRunnerTask(algorithm, self.parameters, self.context, self.feedback)
        self.task.setDescription(f"Detect aircraft \u2013 {self.raster.name()}")
        self.task.executed.connect(self._on_executed)
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def _on_executed(self, ok: bool, results: dict) -> None:
        """Main thread: add the layer, or say in one message why there is none."""
        self.done = True
        if self.feedback.isCanceled() or (ok and "OUTPUT" not in results):
            self.notify(Qgis.MessageLevel.Info, f"Detection on {self.raster.name()} was cancelled; nothing was added.")
            return
        if not ok:
            reason = self.feedback.errors[-1] if self.feedback.errors else "see the log messages panel"
            self.notify(Qgis.MessageLevel.Critical, f"Aircraft detection on {self.raster.name()} failed: {reason}")
            return
        layer = self.context.takeResultLayer(results["OUTPUT"])
        if not isinstance(layer, QgsVectorLayer):
            self.notify(Qgis.MessageLevel.Critical,
                        "Aircraft detection finished but its result layer could not be found.")
            return
        layer.setName(result_layer_name(self.raster.name()))
        apply_aircraft_style(layer, float(results.get("SCORE_THRESHOLD", DEFAULT_MIN_SCORE)),
                             results.get("RECOMMENDED_SCORE"))
        add_above(self.project, layer, self.raster)
        expand_legend(self.project, layer)
        self.result_layer = layer
        count = int(results.get("DETECTIONS", layer.featureCount()))
        text = f"{count} aircraft found in {self.raster.name()}."
        if self.on_result is not None:
            self.on_result(layer, text)
        else:
            self.notify(Qgis.MessageLevel.Success, text)


def add_above(project: QgsProject, layer, reference) -> None:
    """Insert layer directly above reference in the layer tree (at the top when reference is not there)."""
    project.addMapLayer(layer, False)
    root = project.layerTreeRoot()
    node = root.findLayer(reference.id())
    if node is None:
        root.insertLayer(0, layer)
        return
    parent = node.parent()
    parent.insertLayer(parent.children().index(node), layer)
