"""What is evaluated is what is deployed: validation images written as GeoTIFFs give detect_raster the
same boxes and scores that evaluation computes on them in memory, and so the same AP50."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import rasterio.errors

from engine.config import DetectConfig
from engine.datasets.airbus import load_image, validation_ids
from engine.evaluation.evaluate import detect_images, evaluate_detector, evaluation_plan
from engine.evaluation.metrics import ImageResult, detection_metrics
from engine.pipeline.detect import detect_raster
from engine.runtime import load_detector


def _write_geotiff(path, image_hwc: np.ndarray) -> str:
    """An RGB GeoTIFF without georeference (pixel space at the model's gsd), as a user might export one."""
    height, width = image_hwc.shape[:2]
    profile = dict(driver="GTiff", width=width, height=height, count=3, dtype="uint8", photometric="RGB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(image_hwc.transpose(2, 0, 1))
    return str(path)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_evaluate_and_detect_agree_on_validation_images(shared_dir, tmp_path, precision):
    root = shared_dir / "datasets" / "airbus-aircraft"
    detector = load_detector(None, min_score=0.05, precision=precision)
    images = [load_image(root, image_id, gsd_m=detector.config.gsd_m) for image_id in validation_ids()[:3]]
    gate = float(detector.config.gate_threshold)
    evaluated = list(detect_images(detector, images, evaluation_plan(detector, gate, 4)))
    config = DetectConfig(score_threshold=0.0, gate_threshold=gate)
    detected = []
    for item, found in evaluated:
        raster = detect_raster(_write_geotiff(tmp_path / f"{item.image_id}.tif", item.image), config, detector=detector)
        assert raster.stats.patches_total == len(found.origins_model_px)
        assert raster.stats.patches_passed_gate == found.stream.counts.passed
        order_a, order_b = np.lexsort(raster.boxes_raster_px.T), np.lexsort(found.boxes_raster_px.T)
        np.testing.assert_allclose(raster.boxes_raster_px[order_a], found.boxes_raster_px[order_b], atol=1e-4)
        np.testing.assert_allclose(raster.scores[order_a], found.scores[order_b], atol=1e-6)
        assert len(raster.scores) > 5
        detected.append(ImageResult(raster.boxes_raster_px, raster.scores, item.boxes_px))
    report = evaluate_detector(detector, images, gate, with_coco=False)
    assert report.detection.ap50 == pytest.approx(detection_metrics(detected).ap50, abs=1e-9)
