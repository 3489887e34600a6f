"""A picture of what the plugin gives: a generated scene and its styled detection layer rendered by QGIS."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import AIRCRAFT_PX, REPO_ROOT, box_map, ensure_provider, write_scene, write_test_model  # noqa: E402

BUNDLED_MODEL = REPO_ROOT / "resources" / "models" / "r2cnn_aircraft.onnx"
HIGH_SCORE_RGB = (0xE3, 0x1A, 0x1C)  # aircraft.qml's colour for scores 0.85 .. 1.0


def render_png(layers, extent, size_px, out_path: Path, caption: str | None = None):
    """Render layers (top first) over extent with QgsMapRendererParallelJob; returns the QImage."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QRect, QSize, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QPainter

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setOutputSize(QSize(*size_px))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if caption:  # one line on a dark band at the bottom: what the picture shows
        painter = QPainter(image)
        band = QRect(0, image.height() - 28, image.width(), 28)
        painter.fillRect(band, QColor(0, 0, 0, 170))
        painter.setPen(QColor("white"))
        painter.setFont(QFont("DejaVu Sans", 10))
        painter.drawText(band.adjusted(8, 0, -8, 0), int(Qt.AlignVCenter | Qt.AlignLeft), caption)
        painter.end()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(out_path), "PNG")
    return image, settings


def detect_and_style(raster_path: Path, parameters: dict):
    """processing.run, then the plugin's name and style, as the toolbar action does."""
    import processing
    from qgis.core import QgsRasterLayer

    from r2cnn_qgis.styling import apply_aircraft_style, result_layer_name

    ensure_provider()
    raster = QgsRasterLayer(str(raster_path), raster_path.stem)
    assert raster.isValid()
    result = processing.run("r2cnn:detectaircraft", {"INPUT": raster, "OUTPUT": "memory:", **parameters})
    layer = result["OUTPUT"]
    layer.setName(result_layer_name(raster.name()))
    assert apply_aircraft_style(layer)
    return raster, layer


def detections_extent(layer, raster, margin_m: float = 80.0):
    """Where the aircraft are (plus a margin), so they are big enough to see; the raster if none."""
    if layer.featureCount() == 0:
        return raster.extent()
    return layer.extent().buffered(margin_m).intersect(raster.extent())


def pixel_rgb(image, x: float, y: float) -> tuple[int, int, int]:
    color = image.pixelColor(int(round(x)), int(round(y)))
    return color.red(), color.green(), color.blue()


def test_render_scene_with_detections_to_png(qgis_app, tmp_path):
    """The boxes appear in the style's colour at the aircraft, imagery elsewhere."""
    from qgis.core import QgsPointXY

    write_scene(tmp_path / "scene.tif")
    model = write_test_model(tmp_path / "blob.onnx")
    raster, layer = detect_and_style(tmp_path / "scene.tif", {"MODEL": str(model)})
    out = tmp_path / "quicklook.png"
    image, settings = render_png([layer, raster], raster.extent(), (640, 512), out)  # 4 px per raster px
    assert out.stat().st_size > 1000 and (image.width(), image.height()) == (640, 512)

    to_pixel = settings.mapToPixel()
    for col, row in AIRCRAFT_PX:
        x0, y0, x1, y1 = box_map(col, row)
        left = to_pixel.transform(QgsPointXY(x0, (y0 + y1) / 2))  # middle of the box's left edge
        red, green, blue = pixel_rgb(image, left.x(), left.y())
        assert red > 180 and green < 90 and blue < 90, (col, row, (red, green, blue))
    far = to_pixel.transform(QgsPointXY(*box_map(100, 10)[:2]))  # open ground, no aircraft near
    red, green, blue = pixel_rgb(image, far.x(), far.y())
    assert 80 <= min(red, green, blue) and max(red, green, blue) <= 130  # the scene's 90..120 ground


@pytest.mark.skipif(not BUNDLED_MODEL.is_file(), reason=f"the shipped model {BUNDLED_MODEL} is not there yet")
def test_real_model_finds_the_known_aircraft_of_a_generated_scene(qgis_app, tmp_path):
    """The bundled model, defaults only (as a user would run it), on a generated airport scene."""
    import numpy as np

    from engine.evaluation.scene_recall import match_scene
    from engine.synthetic.scene_generator import write_scene_geotiff

    scene_path = tmp_path / "airport.tif"
    truth = write_scene_geotiff(scene_path, 1024, 1024, seed=3, n_airports=1, bands=1, dtype="uint16")
    raster, layer = detect_and_style(scene_path, {})
    assert layer.crs() == raster.crs()
    assert [f.name() for f in layer.fields()] == [
        "score", "patch_score", "label", "source", "length_m", "width_m", "size_class"]

    extent, size_x, size_y = raster.extent(), raster.rasterUnitsPerPixelX(), raster.rasterUnitsPerPixelY()
    boxes_px, scores = [], []
    for feature in layer.getFeatures():  # north-up raster: map box -> raster px box
        rect = feature.geometry().boundingBox()
        col0, col1 = ((x - extent.xMinimum()) / size_x for x in (rect.xMinimum(), rect.xMaximum()))
        row0, row1 = ((extent.yMaximum() - y) / size_y for y in (rect.yMaximum(), rect.yMinimum()))
        boxes_px.append((col0, row0, col1, row1))
        scores.append(feature["score"])
    match = match_scene(np.asarray(boxes_px), np.asarray(scores), truth.boxes_raster_px, iou_threshold=0.5)
    print(match.describe())
    assert match.recall >= 0.5, match.describe()

    caption = (f"QGIS: Detect aircraft (bundled model) on a generated 2 m scene: "
               f"{match.matched} of {match.true_count} aircraft found, {match.detected_count} boxes")
    extent = detections_extent(layer, raster)
    render_png([layer, raster], extent, (1024, 768), tmp_path / "quicklook_real_model.png", caption)


@pytest.mark.skipif(not BUNDLED_MODEL.is_file(), reason=f"the shipped model {BUNDLED_MODEL} is not there yet")
def test_precision_picks_the_bundled_model_that_runs(qgis_app, tmp_path):
    """No MODEL: the engine's automatic file on the CPU (INT8 windows where INT8 is exact), the fp32
    reference when asked; same aircraft count give or take a few."""
    import processing
    from qgis.core import QgsProcessingFeedback

    from engine.runtime import bundled_model_for
    from engine.synthetic.scene_generator import write_scene_geotiff

    class Log(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def pushInfo(self, info):
            self.lines.append(info)

    write_scene_geotiff(tmp_path / "airport.tif", 1024, 1024, seed=3, n_airports=1, bands=1, dtype="uint16")
    ensure_provider()
    counts = {}
    automatic = bundled_model_for("auto", "cpu").name  # INT8 windows, or fp32 windows where INT8 saturates
    for precision, expected in ((0, automatic), (2, "r2cnn_aircraft.onnx")):
        log = Log()
        result = processing.run(
            "r2cnn:detectaircraft",
            {"INPUT": str(tmp_path / "airport.tif"), "PRECISION": precision, "DEVICE": 1,
             "OUTPUT": "TEMPORARY_OUTPUT"},
            feedback=log,
        )
        assert any(line.startswith(f"Model: {expected} on cpu") for line in log.lines), log.lines
        counts[precision] = result["DETECTIONS"]
    assert counts[0] > 0 and abs(counts[0] - counts[2]) <= max(3, 0.1 * counts[2]), counts


def test_labels_on_a_dense_apron_cover_no_other_box_and_rank_by_score(qgis_app):
    """6 x 12 aircraft of 40 m, 15 m apart, at 1:14,000: labels are far larger than the gaps."""
    from qgis.core import (
        QgsFeature,
        QgsGeometry,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsRectangle,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize

    from r2cnn_qgis.detection_features import detection_fields
    from r2cnn_qgis.styling import apply_aircraft_style

    layer = QgsVectorLayer("Polygon?crs=EPSG:32631", "apron", "memory")
    layer.dataProvider().addAttributes(detection_fields().toList())
    layer.updateFields()
    scores = np.random.default_rng(0).uniform(0.3, 1.0, size=72)
    boxes, features = [], []
    for index, score in enumerate(scores):
        x, y = 500000.0 + (index % 12) * 55.0, 4000000.0 + (index // 12) * 55.0
        boxes.append(QgsRectangle(x, y, x + 40.0, y + 40.0))
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromRect(boxes[-1]))
        feature.setAttributes([float(score), 0.9, "aircraft", "apron.tif"])
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    assert apply_aircraft_style(layer, 0.3)

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setOutputSize(QSize(1200, 900))
    settings.setOutputDpi(96)
    centre, half_w, half_h = layer.extent().center(), 600 * 14000 * 0.0254 / 96, 450 * 14000 * 0.0254 / 96
    settings.setExtent(QgsRectangle(centre.x() - half_w, centre.y() - half_h, centre.x() + half_w, centre.y() + half_h))
    assert 13000 < settings.scale() < 15000
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    labels = job.takeLabelingResults().allLabels()

    drawn = {label.featureId - 1 for label in labels}  # memory layer ids start at 1
    covering = [label for label in labels if any(
        index != label.featureId - 1 and box.intersects(label.labelRect) for index, box in enumerate(boxes))]
    assert drawn and len(covering) <= len(labels) // 5  # the rest touch a neighbour with the text buffer at most
    assert len(drawn) < len(boxes)  # the labels left out are still in the map tips

    from qgis.core import QgsExpressionContext, QgsExpressionContextUtils, QgsPalLayerSettings

    labeling = layer.labeling()  # each object kept: a chain of temporaries would free what it points into
    label_settings = labeling.settings()
    properties = label_settings.dataDefinedProperties()
    priority = properties.property(QgsPalLayerSettings.Property.Priority)
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    ranked = []
    for feature in sorted(layer.getFeatures(), key=lambda f: f["score"]):
        context.setFeature(feature)
        ranked.append(priority.value(context, 0)[0])
    assert ranked == sorted(ranked) and ranked[0] < ranked[-1] < 10  # higher scores first; never above the boxes
