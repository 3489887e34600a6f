"""Runs inside the QGIS window (qgis --code, started by scripts/screenshots.py): detect, zoom, grab.

Steps are chained with QTimer so QGIS keeps drawing in between: load the scene, press the plugin's
*Detect aircraft in active layer*, wait for the background task, zoom to the busiest apron at a scale
where score labels show, wait for the canvas to finish drawing, grab the screen, write a JSON report, quit.
"""
import json
import os
import time
import traceback

import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication

SCENE = os.environ["R2CNN_SHOT_SCENE"]
OUT = os.environ["R2CNN_SHOT_OUT"]
REPORT = os.environ["R2CNN_SHOT_REPORT"]
VIEW_SCALE = 7000  # large enough for aircraft to read, inside the labels' 1:15,000 limit
DEADLINE = time.monotonic() + 600
iface = qgis.utils.iface
state = {}


def report(**values):
    """Write what happened (the orchestrator checks it), then quit QGIS without a save prompt."""
    with open(REPORT, "w") as handle:
        json.dump(values, handle)
    QgsProject.instance().setDirty(False)
    QTimer.singleShot(500, iface.actionExit().trigger)


def step(function):
    """Run one step; any exception ends the session with its traceback in the report."""
    def wrapped():
        try:
            function()
        except Exception:
            report(error=traceback.format_exc())
    return wrapped


def later(function, ms=500):
    """The next step, after QGIS has had ms milliseconds to draw and run its tasks."""
    QTimer.singleShot(ms, step(function))


def start():
    """Fill the screen, add the scene, press the plugin's toolbar action on it."""
    window = iface.mainWindow()
    window.setGeometry(QApplication.primaryScreen().geometry())
    window.showMaximized()
    plugin = qgis.utils.plugins.get("r2cnn_qgis")
    if plugin is None:
        raise RuntimeError("the r2cnn_qgis plugin is not loaded")
    raster = iface.addRasterLayer(SCENE, "demo scene")
    if raster is None or not raster.isValid():
        raise RuntimeError(f"QGIS cannot open {SCENE}")
    iface.setActiveLayer(raster)
    state["run"] = plugin.run_on_active_layer()  # the toolbar button's action
    if state["run"] is None:
        raise RuntimeError("the plugin refused to run: see its message bar")
    state["plugin"] = plugin
    later(wait_for_run)


def wait_for_run():
    """Poll the background task; when done, zoom to the busiest apron."""
    run = state["run"]
    if not run.done:
        if time.monotonic() > DEADLINE:
            raise RuntimeError("detection did not finish in time")
        later(wait_for_run, 1000)
        return
    layer = run.result_layer
    if layer is None or layer.featureCount() == 0:
        raise RuntimeError("the run added no aircraft")
    state["layer"] = layer
    canvas = iface.mapCanvas()
    canvas.setExtent(busiest_area(layer))
    canvas.zoomScale(VIEW_SCALE)
    canvas.refresh()
    later(wait_for_canvas, 2000)


def busiest_area(layer, radius_m=600.0):
    """Centre on the detection with the most others within radius_m: an apron full of aircraft."""
    centres = [f.geometry().centroid().asPoint() for f in layer.getFeatures()]
    best = max(centres, key=lambda p: sum(p.distance(q) < radius_m for q in centres))
    return QgsRectangle(best.x() - radius_m, best.y() - radius_m, best.x() + radius_m, best.y() + radius_m)


def wait_for_canvas():
    """Grab only once the canvas has finished drawing (and labelling)."""
    canvas = iface.mapCanvas()
    if canvas.isDrawing() or QgsApplication.taskManager().countActiveTasks():
        later(wait_for_canvas, 500)
        return
    QApplication.processEvents()
    later(grab, 1500)


def grab():
    """Save the whole screen and report what it shows."""
    canvas, layer = iface.mapCanvas(), state["layer"]
    results = canvas.labelingResults()
    labels = results.allLabels() if results is not None else []
    labelled = [label for label in labels if label.layerID == layer.id()]
    pixmap = QApplication.primaryScreen().grabWindow(0)
    if pixmap.isNull() or not pixmap.save(OUT, "PNG"):
        raise RuntimeError(f"could not grab the screen into {OUT}")
    dock = state["plugin"].dock
    report(aircraft=layer.featureCount(), labelled=len(labelled), scale=canvas.scale(),
           dock_layer=dock.layer().name() if dock.layer() else None, dock_text=dock.count_text(),
           messages=[item.text() for item in iface.messageBar().items()])


later(start, 3000)
