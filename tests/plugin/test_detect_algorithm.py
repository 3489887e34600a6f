"""processing.run("r2cnn:detectaircraft") end to end on generated scenes, with the bright-blob ONNX model."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import (  # noqa: E402
    AIRCRAFT_PX,
    SCENE_CRS,
    assert_same_boxes,
    box_map,
    ensure_provider,
    feature_boxes,
    write_scene,
    write_test_model,
)

ALGORITHM = "r2cnn:detectaircraft"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """(raster path, true boxes in map units) of the 160 x 128 px test scene."""
    folder = tmp_path_factory.mktemp("scene")
    truth = write_scene(folder / "scene.tif")
    return folder / "scene.tif", sorted(truth)


@pytest.fixture(scope="module")
def blob_model(tmp_path_factory):
    return write_test_model(tmp_path_factory.mktemp("model") / "blob.onnx")


def run(parameters, feedback=None):
    import processing

    ensure_provider()
    return processing.run(ALGORITHM, parameters, feedback=feedback)


def test_finds_every_aircraft_in_the_raster_crs(qgis_app, scene, blob_model):
    path, truth = scene
    result = run({"INPUT": str(path), "MODEL": str(blob_model), "OUTPUT": "TEMPORARY_OUTPUT"})

    layer = result["OUTPUT"]
    assert layer.crs().authid() == SCENE_CRS
    assert [f.name() for f in layer.fields()] == [
        "score", "patch_score", "label", "source", "length_m", "width_m", "size_class"]
    assert result["DETECTIONS"] == len(AIRCRAFT_PX) == layer.featureCount()
    assert_same_boxes(feature_boxes(layer), truth)
    for feature in layer.getFeatures():
        assert feature["score"] == pytest.approx(0.9)  # the blob model's fixed box score
        assert 0.5 <= feature["patch_score"] <= 1.0  # it passed the gate
        assert feature["label"] == "aircraft"
        assert feature["source"] == "scene.tif"
        assert feature["length_m"] == feature["width_m"] == pytest.approx(12.0)  # 6 px blobs at 2 m
        assert feature["size_class"] == "light"


def test_writes_a_geopackage_and_honours_the_score_threshold(qgis_app, scene, blob_model, tmp_path):
    from qgis.core import QgsVectorLayer

    path, _ = scene
    out = tmp_path / "aircraft.gpkg"
    result = run({"INPUT": str(path), "MODEL": str(blob_model), "OUTPUT": str(out)})
    assert result["DETECTIONS"] == len(AIRCRAFT_PX)
    written = QgsVectorLayer(str(out), "written", "ogr")
    assert written.isValid() and written.featureCount() == len(AIRCRAFT_PX)
    assert written.crs().authid() == SCENE_CRS
    # opened as any later session would: the style stored in the file (processing.run loads nothing)
    assert written.renderer().type() == "graduatedSymbol" and written.renderer().classAttribute() == "score"
    assert written.renderer().ranges()[0].lowerValue() == pytest.approx(0.5) and written.labelsEnabled()  # the model's

    above = run({"INPUT": str(path), "MODEL": str(blob_model), "SCORE_THRESHOLD": 0.95,
                 "OUTPUT": "TEMPORARY_OUTPUT"})
    assert above["DETECTIONS"] == 0 and above["OUTPUT"].featureCount() == 0


def test_extent_in_another_crs_limits_the_search(qgis_app, scene, blob_model):
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsProject,
        QgsRectangle,
    )

    path, _ = scene
    # x < 150 m from the origin (75 px): the aircraft at columns 20, 68 and 36, not the one at 116.
    left_half_utm = QgsRectangle(500000.0, 3999744.0, 500150.0, 4000000.0)
    wgs84_crs = QgsCoordinateReferenceSystem("EPSG:4326")
    utm_crs = QgsCoordinateReferenceSystem(SCENE_CRS)
    to_wgs84 = QgsCoordinateTransform(utm_crs, wgs84_crs, QgsProject.instance())
    wgs84 = to_wgs84.transformBoundingBox(left_half_utm)
    extent = f"{wgs84.xMinimum()},{wgs84.xMaximum()},{wgs84.yMinimum()},{wgs84.yMaximum()} [EPSG:4326]"

    result = run({"INPUT": str(path), "MODEL": str(blob_model), "EXTENT": extent,
                  "OUTPUT": "TEMPORARY_OUTPUT"})
    expected = [box_map(*AIRCRAFT_PX[i]) for i in (0, 1, 3)]
    assert_same_boxes(feature_boxes(result["OUTPUT"]), expected)


def test_extent_outside_the_raster_is_one_clear_error(qgis_app, scene, blob_model):
    from qgis.core import QgsProcessingException

    path, _ = scene
    with pytest.raises(QgsProcessingException, match="does not overlap"):
        run({"INPUT": str(path), "MODEL": str(blob_model), "EXTENT": "0,10,0,10 [EPSG:32631]",
             "OUTPUT": "TEMPORARY_OUTPUT"})


def test_cancelling_stops_the_run_and_leaves_no_output(qgis_app, scene, blob_model, tmp_path):
    from qgis.core import QgsProcessingFeedback

    path, _ = scene
    out = tmp_path / "cancelled.gpkg"
    feedback = QgsProcessingFeedback()
    progress_seen = []

    def cancel_once_started(percent):
        progress_seen.append(percent)
        if percent >= 5.0:  # the engine reports 5 % once the model is loaded, before any patch
            feedback.cancel()

    feedback.progressChanged.connect(cancel_once_started)
    result = run({"INPUT": str(path), "MODEL": str(blob_model), "OUTPUT": str(out)}, feedback)

    assert "OUTPUT" not in result and "DETECTIONS" not in result
    assert not out.exists()
    assert max(progress_seen) < 100.0  # it stopped before the end


def test_bad_inputs_give_one_clear_processing_exception(qgis_app, scene, blob_model, tmp_path):
    from qgis.core import QgsProcessingException

    path, _ = scene
    not_a_model = tmp_path / "not_a_model.onnx"
    not_a_model.write_text("definitely not protobuf")
    with pytest.raises(QgsProcessingException, match="not a valid ONNX model"):
        run({"INPUT": str(path), "MODEL": str(not_a_model), "OUTPUT": "TEMPORARY_OUTPUT"})
    with pytest.raises(QgsProcessingException, match="1 or 3 band numbers"):
        run({"INPUT": str(path), "MODEL": str(blob_model), "BANDS": [1, 2], "OUTPUT": "TEMPORARY_OUTPUT"})


@pytest.mark.parametrize("tile_size", [16, 128])  # under the engine's minimum; not the model's fixed 64 px
def test_a_bad_tile_size_is_refused_with_the_clis_message(qgis_app, scene, blob_model, tile_size, capsys):
    from qgis.core import QgsProcessingException

    from engine.cli.main import main

    path, _ = scene
    with pytest.raises(QgsProcessingException) as raised:
        run({"INPUT": str(path), "MODEL": str(blob_model), "TILE_SIZE": tile_size, "OUTPUT": "TEMPORARY_OUTPUT"})
    capsys.readouterr()
    code = main(["detect", str(path), "--model", str(blob_model), "--tile-size", str(tile_size),
                 "-o", str(Path(str(blob_model)).with_name(f"never_{tile_size}.gpkg"))])
    cli_line = capsys.readouterr().err.strip()
    assert code == 2 and cli_line == f"r2cnn detect: error: {raised.value}"
    assert "tile size" in str(raised.value) and "invalid model outputs" not in str(raised.value)


def test_an_unset_score_threshold_is_the_models(qgis_app, scene, blob_model):
    result = run({"INPUT": str(scene[0]), "MODEL": str(blob_model), "OUTPUT": "TEMPORARY_OUTPUT"})
    assert result["SCORE_THRESHOLD"] == 0.5  # write_test_model's, as r2cnn detect uses it
    assert run({"INPUT": str(scene[0]), "MODEL": str(blob_model), "SCORE_THRESHOLD": 0.3,
                "OUTPUT": "TEMPORARY_OUTPUT"})["SCORE_THRESHOLD"] == 0.3


def test_missing_onnxruntime_is_reported_with_where_to_install_it(qgis_app, scene, blob_model, monkeypatch):
    from qgis.core import QgsProcessingException

    path, _ = scene
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(QgsProcessingException) as raised:
        run({"INPUT": str(path), "MODEL": str(blob_model), "OUTPUT": "TEMPORARY_OUTPUT"})
    message = str(raised.value)
    assert "onnxruntime" in message
    assert "Raster > R2-CNN aircraft detection > Install dependencies" in message
    assert message.count("onnxruntime for QGIS's Python") == 1

    # what qgis_process and the toolbox dialog ask before running: refused there, in one message
    from qgis.core import QgsApplication, QgsProcessingContext

    algorithm = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM)
    ok, refusal = algorithm.checkParameterValues({"INPUT": str(path), "OUTPUT": "TEMPORARY_OUTPUT"},
                                                 QgsProcessingContext())
    assert not ok and "onnxruntime" in refusal and "\n" not in refusal


def test_non_file_raster_layers_are_refused(qgis_app, blob_model):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    wms = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/{z}/{x}/{y}.png", "tiles", "wms")
    with pytest.raises(QgsProcessingException):
        run({"INPUT": wms, "MODEL": str(blob_model), "OUTPUT": "TEMPORARY_OUTPUT"})


def test_toolbox_style_run_loads_a_named_and_styled_layer(qgis_app, scene, blob_model):
    """runAndLoadResults (the toolbox's path): the layer is renamed and styled by the post-processor."""
    import processing
    from qgis.core import QgsGraduatedSymbolRenderer, QgsProject, QgsRasterLayer

    path, _ = scene
    ensure_provider()
    raster = QgsRasterLayer(str(path), "scene")
    project = QgsProject.instance()
    project.addMapLayer(raster)
    try:
        result = processing.runAndLoadResults(ALGORITHM, {"INPUT": raster, "MODEL": str(blob_model),
                                                          "OUTPUT": "TEMPORARY_OUTPUT"})
        layer = project.mapLayer(result["OUTPUT"])
        assert layer is not None and layer.name() == "Aircraft \u2013 scene"
        assert isinstance(layer.renderer(), QgsGraduatedSymbolRenderer)
        assert layer.renderer().classAttribute() == "score"
        assert layer.featureCount() == len(AIRCRAFT_PX)
    finally:
        project.clear()


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # writing it on purpose
def test_raster_without_georeference_gives_pixel_space_boxes_and_a_warning(qgis_app, blob_model, tmp_path):
    """QGIS draws such rasters with a (1, -1) pixel size: the boxes land on the aircraft there too."""
    import numpy as np
    import rasterio
    from qgis.core import QgsProcessingFeedback

    image = np.full((3, 64, 64), 100, dtype=np.uint8)
    image[:, 20:26, 36:42] = 250  # one blob: columns 36..41, rows 20..25
    with rasterio.open(tmp_path / "plain.tif", "w", driver="GTiff", width=64, height=64, count=3,
                       dtype="uint8") as dataset:
        dataset.write(image)

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.warnings: list[str] = []

        def pushWarning(self, warning):
            self.warnings.append(warning)

    feedback = Recorder()
    parameters = {"INPUT": str(tmp_path / "plain.tif"), "MODEL": str(blob_model), "OUTPUT": "memory:"}
    result = run(parameters, feedback)
    assert_same_boxes(feature_boxes(result["OUTPUT"]), [(36.0, -26.0, 42.0, -20.0)])
    assert any("no georeference" in warning for warning in feedback.warnings)
