import numpy as np

from engine.config import ModelConfig
from engine.datasets.airbus import LabelledImage
from engine.evaluation.calibrate import (
    choose_gate_threshold,
    choose_score_threshold,
    pooled_rows,
    precise_threshold,
    tiled_gate_scores,
)
from engine.evaluation.evaluation_report import EvaluationReport
from engine.evaluation.metrics import DetectionMetrics, ThresholdRow
from engine.evaluation.scene_sweep import SweepRow
from engine.runtime.types import BatchResult, PatchDetections


def report_with(rows):
    detection = DetectionMetrics(100, 0, 0.0, 0.0, tuple(ThresholdRow(t, tp, fp, 100 - tp, tp / 100, tp / (tp + fp))
                                                        for t, tp, fp in rows))
    return EvaluationReport(1, 1, 1, 640, -1.0, detection, None, None, 0.0)


def test_score_threshold_has_the_best_f1():
    rows = [(0.1, 98, 400), (0.3, 90, 20), (0.5, 50, 10)]
    assert choose_score_threshold(report_with(rows)) == 0.3


def test_whole_scene_false_alarms_move_the_threshold_up():
    """Crops alone pick 0.3; the scenes' false alarms on open land at 0.3 make 0.5 the better point."""
    rows = [(0.1, 98, 400), (0.3, 90, 20), (0.5, 70, 5)]
    scenes = [SweepRow(0.1, 180, 900, 20), SweepRow(0.3, 170, 120, 30), SweepRow(0.5, 165, 4, 35)]
    assert choose_score_threshold(report_with(rows)) == 0.3
    assert choose_score_threshold(report_with(rows), scenes) == 0.5
    assert precise_threshold(report_with(rows), scene_rows=scenes) == 0.5
    pooled = pooled_rows(report_with(rows), scenes)
    assert (pooled[1].tp, pooled[1].fp, pooled[1].fn) == (260, 140, 40)


def test_precise_threshold_is_the_lowest_reaching_the_precision():
    rows = [(0.1, 98, 40), (0.3, 95, 6), (0.5, 93, 3), (0.9, 60, 0)]
    assert precise_threshold(report_with(rows)) == 0.5
    assert precise_threshold(report_with(rows[:1])) is None


def test_gate_threshold_keeps_99_percent_of_aircraft():
    best = np.concatenate([np.linspace(0.2, 0.99, 200), [0.001]])
    threshold = choose_gate_threshold(best)
    assert np.mean(best >= threshold) >= 0.99
    assert 0.2 < threshold <= 0.5
    assert choose_gate_threshold(np.array([])) == 0.5


def test_tiled_gate_scores_credit_an_aircraft_to_the_patch_holding_it_whole():
    class GateOnly:
        config = ModelConfig(patch_size=64, overlap=0.25)
        device = "cpu"

        def __call__(self, images_u8, gate_threshold):
            scores = images_u8[:, 0, :, 16:48].mean(axis=(1, 2)) / 255.0  # brightness of the patch's middle
            empty = PatchDetections(np.zeros((0, 4)), np.zeros(0))
            return BatchResult(scores.astype(np.float32), [empty] * len(images_u8))

    image = np.full((64, 112, 3), 10, np.uint8)
    image[:, 60:68] = 250  # at x 60..68 an aircraft cut by the first patch (0..64), whole in the second (48..112)
    boxes = np.array([[60, 20, 68, 28]], np.float32)
    scores = tiled_gate_scores(GateOnly(), [LabelledImage("a", image, boxes, np.zeros(1, bool))])
    assert len(scores.patch_scores) == 2
    assert scores.patch_positive.tolist() == [False, True]  # its centre (64) lies in the second patch only
    assert scores.aircraft_best[0] == scores.patch_scores[1]
