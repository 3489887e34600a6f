import numpy as np

from engine.evaluation.metrics import DetectionMetrics, ThresholdRow
from engine.evaluation.report import EvaluationReport
from engine.training.calibrate import choose_gate_threshold, choose_score_threshold, precise_threshold


def report_with(rows):
    detection = DetectionMetrics(100, 0, 0.0, 0.0, tuple(ThresholdRow(t, tp, fp, 100 - tp, tp / 100, tp / (tp + fp))
                                                        for t, tp, fp in rows))
    return EvaluationReport(1, 1, 1, 640, -1.0, detection, None, None, 0.0)


def test_score_threshold_has_the_best_f1():
    rows = [(0.1, 98, 400), (0.3, 90, 20), (0.5, 50, 10)]
    assert choose_score_threshold(report_with(rows)) == 0.3


def test_precise_threshold_is_the_lowest_reaching_the_precision():
    rows = [(0.1, 98, 40), (0.3, 95, 6), (0.5, 93, 3), (0.9, 60, 0)]
    assert precise_threshold(report_with(rows)) == 0.5
    assert precise_threshold(report_with(rows[:1])) is None


def test_gate_threshold_keeps_99_percent_of_positive_patches():
    scores = np.concatenate([np.linspace(0.2, 0.99, 200), np.full(50, 0.01)])
    positive = np.concatenate([np.ones(200, bool), np.zeros(50, bool)])
    threshold = choose_gate_threshold(scores, positive)
    assert np.mean(scores[positive] >= threshold) >= 0.99
    assert threshold <= 0.5 and threshold > 0.2
