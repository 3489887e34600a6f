"""The plugin's layers carry the engine's schemas (engine.outputs.fields): the same field names and types as
the files `r2cnn detect` and `r2cnn evaluate --report-dir` write, read back through QGIS's OGR provider."""
from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

UTM = CRS.from_epsg(32650).to_wkt()
TRANSFORM = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4000000.0)


def _kinds(fields) -> list[tuple[str, int]]:
    return [(field.name(), int(field.type())) for field in fields]


def _plain(values) -> list:
    """Attribute values with QGIS's NULL (a null QVariant) as None, for comparison."""
    from qgis.PyQt.QtCore import QVariant

    return [None if isinstance(v, QVariant) and v.isNull() else v for v in values]


def _file_layer(path: str, name: str):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    assert layer.isValid(), path
    return layer


def test_detection_layer_fields_are_the_cli_files(qgis_app, tmp_path):
    from engine.outputs.fields import DETECTION_LAYER
    from engine.outputs.vector_writer import write_detections
    from engine.pipeline.detect import SceneDetections
    from engine.pipeline.georef import box_rings_map
    from r2cnn_qgis.detection_features import detection_fields, scene_features

    boxes = np.array([[10.0, 20.0, 15.0, 30.0]])
    scene = SceneDetections(source="a.tif", crs_wkt=UTM, boxes_raster_px=boxes,
                            rings_map=box_rings_map(boxes, TRANSFORM), scores=np.array([0.9]),
                            patch_scores=np.array([0.8]), labels=("aircraft",), stats=None)
    written = _file_layer(write_detections([scene], str(tmp_path / "d.gpkg")), DETECTION_LAYER)
    plugin = detection_fields()
    assert _kinds(plugin) == [kind for kind in _kinds(written.fields()) if kind[0] != "fid"]
    (feature,) = scene_features(scene, plugin)
    (from_file,) = written.getFeatures()
    assert _plain(feature.attributes()) == pytest.approx(_plain([from_file[f.name()] for f in plugin]))
    assert _plain([feature["length_m"]]) == [None]  # no ground size known (no run statistics): the sizes stay NULL


def test_error_layer_fields_are_the_report_folders(qgis_app, tmp_path):
    from engine.evaluation.box_errors import BoxSet, PixelFrame
    from engine.evaluation.error_layers import stage_error_layers
    from engine.evaluation.labelled_scoring import layer_evaluation
    from engine.outputs.fields import ERROR_FIELDS, ERROR_LAYERS
    from r2cnn_qgis.detection_features import qgis_fields

    frame = PixelFrame((1.0, 1.0), TRANSFORM, UTM)
    box_set = BoxSet("a.tif", [[0, 0, 10, 10], [50, 50, 60, 60]], [0.9, 0.8], [1, 2], [[0, 0, 10, 10]], [7], frame)
    evaluation = layer_evaluation([box_set], 0.5, 0.5, "refs", "dets")
    path = str(tmp_path / "e.gpkg")
    with stage_error_layers(evaluation, path) as staged:
        staged.publish()
    plugin = _kinds(qgis_fields(ERROR_FIELDS))
    for name in ERROR_LAYERS:
        assert plugin == [kind for kind in _kinds(_file_layer(path, name).fields()) if kind[0] != "fid"], name
