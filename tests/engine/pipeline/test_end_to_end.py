"""The shipped model on a generated scene with known aircraft, at IoU >= 0.5 (`r2cnn detect`'s defaults).

Issue #4 targets recall >= 0.9; the shipped model measures 0.826 here (MODEL_CARD.md), so this guards the
level reached rather than the target."""

from __future__ import annotations

import pytest

from engine.config import DetectConfig
from engine.evaluation.scene_recall import match_scene
from engine.pipeline.detect import detect_raster
from engine.runtime import bundled_model_path

pytestmark = pytest.mark.skipif(
    not bundled_model_path().is_file(), reason=f"shipped model not there yet ({bundled_model_path()})"
)


@pytest.mark.slow
def test_shipped_model_finds_the_generated_aircraft(tmp_path):
    from engine.synthetic.scene_generator import write_scene_geotiff

    truth = write_scene_geotiff(tmp_path / "scene.tif", 2048, 2048, seed=11, n_airports=2)
    assert len(truth.boxes_raster_px) >= 10
    result = detect_raster(truth.path, DetectConfig(device="cpu", extra={"threads": 1}))
    match = match_scene(result.boxes_raster_px, result.scores, truth.boxes_raster_px, iou_threshold=0.5)
    assert match.recall >= 0.8, match.describe()
    assert match.precision >= 0.9, match.describe()  # model card: 1.000 (the previous model 0.928)
    # The gate must not cost aircraft: the same scene with every patch through the detector.
    ungated = detect_raster(truth.path, DetectConfig(device="cpu", use_gate=False, extra={"threads": 1}))
    everything = match_scene(ungated.boxes_raster_px, ungated.scores, truth.boxes_raster_px, iou_threshold=0.5)
    assert match.recall >= everything.recall - 0.02, (match.describe(), everything.describe())


@pytest.mark.slow
def test_gate_skips_most_of_a_scene_without_airports(tmp_path):
    """What makes huge scenes fast (R2-CNN's gate): fields, roads and towns do not reach the detector."""
    from engine.synthetic.scene_generator import write_scene_geotiff

    truth = write_scene_geotiff(tmp_path / "fields.tif", 2048, 2048, seed=12, n_airports=0)
    result = detect_raster(truth.path, DetectConfig(device="cpu", extra={"threads": 1}))
    computed = result.stats.patches_total - result.stats.patches_skipped_nodata
    assert computed > 0 and result.stats.patches_passed_gate <= 0.25 * computed, result.stats
