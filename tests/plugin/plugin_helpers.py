"""Shared by the plugin tests: tiny georeferenced scenes, the bright-blob ONNX model, a stand-in iface."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # r2cnn_qgis is not pip-installed; the engine is (editable)
    sys.path.insert(0, str(REPO_ROOT))

SCENE_CRS = "EPSG:32631"
SCENE_ORIGIN_MAP = (500000.0, 4000000.0)  # top-left corner, UTM 31N metres
SCENE_GSD_M = 2.0
BLOB_PX = 6
# Top-left corners (col, row) of bright 6 px blobs; each sits inside one 16 px cell of the blob model
# for every tile origin (tiles of 64 px stepping by 48 px keep cell edges on multiples of 16).
AIRCRAFT_PX = ((20, 20), (68, 36), (116, 84), (36, 100))
SCENE_SIZE_PX = (160, 128)  # width, height
TEST_TILE_PX = 64
TEST_OVERLAP = 0.25
SCORES = (0.35, 0.5, 0.62, 0.8, 0.97)


def write_scene(path: Path, aircraft_px=AIRCRAFT_PX, size_px=SCENE_SIZE_PX, seed: int = 0) -> list[tuple]:
    """A 3-band uint8 GeoTIFF (UTM 31N, 2 m) with bright square blobs; returns their boxes in map units."""
    import rasterio
    from rasterio.transform import from_origin

    width, height = size_px
    rng = np.random.default_rng(seed)
    image = rng.integers(90, 121, size=(3, height, width), dtype=np.uint8)
    for col, row in aircraft_px:
        image[:, row:row + BLOB_PX, col:col + BLOB_PX] = 250
    transform = from_origin(*SCENE_ORIGIN_MAP, SCENE_GSD_M, SCENE_GSD_M)
    profile = dict(driver="GTiff", width=width, height=height, count=3, dtype="uint8", crs=SCENE_CRS,
                   transform=transform, photometric="RGB")
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(image)
    return [box_map(col, row) for col, row in aircraft_px]


def box_map(col: int, row: int, size_px: int = BLOB_PX) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in map units of a size_px square whose top-left pixel is (col, row)."""
    x0, y_top = SCENE_ORIGIN_MAP
    return (x0 + col * SCENE_GSD_M, y_top - (row + size_px) * SCENE_GSD_M,
            x0 + (col + size_px) * SCENE_GSD_M, y_top - row * SCENE_GSD_M)


def detection_layer(scores=SCORES, provider="memory", tmp_path=None, size_classes=None):
    """A detection layer with the plugin's schema and the given scores (memory or GeoPackage): 12 m boxes,
    of size class "light" unless size_classes names one per score."""
    from qgis.core import (
        QgsCoordinateTransformContext,
        QgsFeature,
        QgsGeometry,
        QgsRectangle,
        QgsVectorFileWriter,
        QgsVectorLayer,
    )

    from r2cnn_qgis.detection_features import detection_fields

    layer = QgsVectorLayer("Polygon?crs=EPSG:32631", "detections", "memory")
    layer.dataProvider().addAttributes(detection_fields().toList())
    layer.updateFields()
    features = []
    size_classes = size_classes or ("light",) * len(scores)
    for index, (score, size_class) in enumerate(zip(scores, size_classes, strict=True)):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(index * 20.0, 0.0, index * 20.0 + 12.0, 12.0)))
        feature.setAttributes([score, 0.9, "aircraft", "scene.tif", 12.0, 12.0, size_class])
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    if provider == "memory":
        return layer
    path = str(tmp_path / "detections.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    error = QgsVectorFileWriter.writeAsVectorFormatV3(layer, path, QgsCoordinateTransformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    return QgsVectorLayer(path, "detections", "ogr")


def write_test_model(path: Path) -> Path:
    """The engine's bright-blob ONNX model (real ONNX Runtime path, no trained weights), 64 px patches."""
    from engine.config import ModelConfig
    from tests.engine.blob_model import write_blob_model

    config = ModelConfig(gsd_m=SCENE_GSD_M, overlap=TEST_OVERLAP, score_threshold=0.5, gate_threshold=0.5)
    write_blob_model(str(path), patch_size=TEST_TILE_PX, cell_px=16, config=config)
    return path


_KEEP: list = []  # Python must hold the provider: registry ownership does not keep the subclass alive


def ensure_provider():
    """Register the r2cnn provider once per session (as the plugin's initProcessing does)."""
    from qgis.core import QgsApplication

    from r2cnn_qgis.provider import PROVIDER_ID, R2cnnProvider

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById(PROVIDER_ID)
    if provider is None:
        provider = R2cnnProvider()
        assert registry.addProvider(provider)
        _KEEP.append(provider)
    return provider


def feature_boxes(layer) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of a layer's features, sorted, for comparison with the true boxes."""
    boxes = []
    for feature in layer.getFeatures():
        rect = feature.geometry().boundingBox()
        boxes.append((rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()))
    return sorted(boxes)


def assert_same_boxes(found, expected, tol_m: float = 1e-3) -> None:
    """Same number of boxes, each within tol_m of its partner (both lists sorted)."""
    found_array, expected_array = np.asarray(sorted(found)), np.asarray(sorted(expected))
    assert found_array.shape == expected_array.shape, f"{len(found)} boxes found, {len(expected)} expected"
    np.testing.assert_allclose(found_array, expected_array, atol=tol_m, rtol=0)


def make_fake_iface():
    """The part of QgisInterface the plugin uses, recording what it is asked to show."""
    from qgis.PyQt.QtCore import QObject, pyqtSignal
    from qgis.PyQt.QtWidgets import QMainWindow, QToolBar

    class MessageBar:
        def __init__(self):
            self.messages: list[tuple[str, str, object]] = []
            self.items: list = []  # the QgsMessageBarItem of each pushWidget, None for plain messages
            self.popped: list = []  # items taken down again

        def pushMessage(self, title, text, level=0, duration=-1):
            self.messages.append((title, text, level))
            self.items.append(None)

        def pushWidget(self, item, level=0, duration=-1):
            self.messages.append((item.title(), item.text(), level))
            self.items.append(item)

        def popWidget(self, item):
            self.popped.append(item)
            return True

        def buttons(self, index=-1) -> dict:
            """Label -> QPushButton of a pushed item (empty for a plain message)."""
            from qgis.PyQt.QtWidgets import QPushButton

            item = self.items[index]
            return {} if item is None else {b.text(): b for b in item.findChildren(QPushButton)}

    class FakeIface(QObject):
        currentLayerChanged = pyqtSignal(object)

        def __init__(self):
            super().__init__()
            self.window = QMainWindow()
            self.toolbar = QToolBar()
            self.menus: dict[str, list] = {}
            self.bar = MessageBar()
            self.active_layer = None

        def mainWindow(self):
            return self.window

        def messageBar(self):
            return self.bar

        def activeLayer(self):
            return self.active_layer

        def setActiveLayer(self, layer):
            self.active_layer = layer
            return True

        def addToolBarIcon(self, action):
            self.toolbar.addAction(action)

        def removeToolBarIcon(self, action):
            self.toolbar.removeAction(action)

        def addPluginToRasterMenu(self, menu, action):
            self.menus.setdefault(menu, []).append(action)

        def removePluginRasterMenu(self, menu, action):
            self.menus[menu].remove(action)

        def addDockWidget(self, area, dock):
            self.window.addDockWidget(area, dock)

        def removeDockWidget(self, dock):
            self.window.removeDockWidget(dock)

    return FakeIface()
