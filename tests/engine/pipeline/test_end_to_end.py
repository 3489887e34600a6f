"""The shipped model on a generated scene with known aircraft, at IoU >= 0.5.

Issue #4 targets recall >= 0.9; the shipped model measures 0.817 here (see MODEL_CARD.md), so this
guards the level reached rather than the target."""

from __future__ import annotations

import pytest

from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.pipeline.scene_recall import match_scene
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
    assert match.precision >= 0.5, match.describe()  # loose: the gate and threshold must not flood the map
    # The recommended gate threshold (0.0011) keeps 99 % patch recall and passes all 16 patches of this
    # airport-dense scene; a stricter gate skips patches (MODEL_CARD.md: the gate learned "airport").
    strict = detect_raster(truth.path, DetectConfig(device="cpu", gate_threshold=0.05, extra={"threads": 1}))
    assert strict.stats.patches_passed_gate < strict.stats.patches_total
