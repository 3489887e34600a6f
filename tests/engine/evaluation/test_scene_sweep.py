"""The whole-scene sweep: one run at the lowest score answers every threshold exactly as `r2cnn detect` would."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import DetectConfig
from engine.evaluation.scene_sweep import SceneRun, by_size, recall_at_precision, run_scene, sweep
from engine.pipeline.candidates import Candidates
from engine.pipeline.detect import detect_raster
from engine.runtime import load_detector


def _run(boxes, scores, patch_ids, truth) -> SceneRun:
    boxes = np.asarray(boxes, np.float64)
    candidates = Candidates(boxes, np.asarray(scores, np.float64), np.ones(len(scores)), np.asarray(patch_ids))
    return SceneRun("scene.tif", np.asarray(truth, np.float32), candidates, 0.5, 1.0, 0.0)


def test_counts_per_threshold_and_the_high_precision_point():
    truth = [[0, 0, 20, 20], [100, 100, 120, 120], [200, 200, 260, 260]]
    run = _run(
        [[0, 0, 20, 20], [101, 100, 121, 120], [300, 300, 320, 320], [200, 200, 228, 260], [232, 200, 260, 260]],
        [0.9, 0.6, 0.7, 0.4, 0.3],
        [0, 0, 0, 1, 2],
        truth,
    )
    rows = {r.threshold: (r.tp, r.fp, r.fn) for r in sweep([run], (0.05, 0.5, 0.65, 0.8))}
    # at 0.05 the two half boxes of the large aircraft (other patches) are not merged: IoS below 0.5
    assert rows == {0.05: (2, 3, 1), 0.5: (2, 1, 1), 0.65: (1, 1, 2), 0.8: (1, 0, 2)}
    best = recall_at_precision(sweep([run], (0.05, 0.5, 0.65, 0.8)), 0.95)
    assert best is not None and best.threshold == 0.8
    bins = {b.low_px: (b.aircraft, b.found, b.as_one_box) for b in by_size([run], 0.05)}
    assert bins[16.0] == (2, 2, 2) and bins[60.0] == (1, 0, 0)


@pytest.mark.slow
def test_a_threshold_of_the_sweep_is_what_detect_writes(tmp_path):
    from engine.synthetic.scene_generator import write_scene_geotiff

    truth = write_scene_geotiff(tmp_path / "scene.tif", 1024, 1024, seed=7, n_airports=1)
    config = DetectConfig(device="cpu", precision="fp32")
    run = run_scene(truth.path, load_detector(None, device="cpu", min_score=0.05), config)
    for threshold in (0.3, 0.67):
        found = detect_raster(truth.path, DetectConfig(device="cpu", precision="fp32", score_threshold=threshold))
        boxes, scores = run.detections(threshold)
        order, expected = np.argsort(-scores, kind="stable"), np.argsort(-found.scores, kind="stable")
        np.testing.assert_allclose(boxes[order], found.boxes_raster_px[expected], atol=1e-3)
        np.testing.assert_allclose(scores[order], found.scores[expected], atol=1e-6)
