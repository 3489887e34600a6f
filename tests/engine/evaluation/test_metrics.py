"""VOC AP50 / threshold table / gate metrics on hand-made cases, COCO bins through pycocotools."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.evaluation.coco_eval import coco_metrics
from engine.evaluation.metrics import (
    ImageResult,
    average_precision,
    detection_metrics,
    gate_metrics,
)

GT = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], dtype=np.float64)


def test_perfect_detector_has_ap_one():
    metrics = detection_metrics(
        [ImageResult(GT, np.full(4, 0.9), GT), ImageResult(GT[:2], [0.7, 0.6], GT[:2])]
    )
    assert metrics.ap50 == pytest.approx(1.0) and metrics.max_recall == pytest.approx(1.0)
    assert metrics.n_gt == 6
    # at 0.05, 0.5 and 0.8:
    assert [(r.tp, r.fp, r.fn) for r in metrics.rows[:3]] == [(6, 0, 0), (6, 0, 0), (4, 0, 2)]


def test_known_mix_of_true_and_false_positives():
    """By hand: TP, FP, TP, duplicate (FP), TP, and one below 0.05 -> recall .25 .25 .5 .5 .75,
    precision 1 .5 .667 .5 .6; the envelope gives AP = .25*1 + .25*2/3 + .25*.6 = 17/30."""
    boxes = np.array([GT[0], [80, 80, 90, 90], GT[1] + [1, 0, 1, 0], GT[0] + [0.5, 0, 0.5, 0], GT[2], GT[3]])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.01])
    metrics = detection_metrics([ImageResult(boxes, scores, GT)], score_thresholds=(0.05, 0.55, 0.85))
    assert metrics.ap50 == pytest.approx(17 / 30)
    assert metrics.max_recall == pytest.approx(0.75) and metrics.n_detections == 5
    rows = {r.score_threshold: r for r in metrics.rows}
    assert (rows[0.05].tp, rows[0.05].fp, rows[0.05].fn) == (3, 2, 1)
    assert (rows[0.55].tp, rows[0.55].fp, rows[0.55].recall, rows[0.55].precision) == (2, 2, 0.5, 0.5)
    assert (rows[0.85].tp, rows[0.85].fp, rows[0.85].precision) == (1, 0, 1.0)


def test_matching_is_per_image_and_each_truth_once():
    metrics = detection_metrics(
        [ImageResult(GT[:1], [0.9], np.zeros((0, 4))), ImageResult(np.zeros((0, 4)), [], GT[:1])]
    )
    assert metrics.ap50 == 0.0 and metrics.rows[0].fp == 1 and metrics.rows[0].fn == 1
    low_iou = GT[:1] + [4, 0, 4, 0]  # IoU 6/14 < 0.5
    assert detection_metrics([ImageResult(low_iou, [0.9], GT[:1])]).ap50 == 0.0


def test_no_ground_truth_and_no_detections_are_undefined_not_zero():
    metrics = detection_metrics([ImageResult(np.zeros((0, 4)), [], np.zeros((0, 4)))])
    assert (
        math.isnan(metrics.ap50)
        and math.isnan(metrics.rows[0].recall)
        and math.isnan(metrics.rows[0].precision)
    )


def test_average_precision_all_point_interpolation():
    assert average_precision(np.array([0.5, 1.0]), np.array([1.0, 0.5])) == pytest.approx(0.75)
    assert average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 0.6])) == pytest.approx(0.8)


def test_gate_metrics_counts():
    gate = gate_metrics(
        np.array([0.9, 0.8, 0.2, 0.1, 0.6]),
        np.array([1, 0, 1, 0, 1], bool),
        0.5,
        aircraft_covered=np.array([True, True, False, True]),
    )
    assert (gate.tp, gate.fp, gate.fn, gate.tn, gate.positives) == (2, 1, 1, 1, 3)
    assert gate.recall == pytest.approx(2 / 3) and gate.precision == pytest.approx(2 / 3)
    assert gate.aircraft_recall == pytest.approx(0.75)
    with pytest.raises(ValueError):
        gate_metrics(np.array([0.9]), np.array([True, False]), 0.5)


# One box per AI-TOD bin: sides 5 (very tiny), 12 (tiny), 24 (small), 40 (medium) px.
BINNED = np.array([[0, 0, 5, 5], [10, 10, 22, 22], [40, 40, 64, 64], [100, 100, 140, 140]], dtype=np.float64)


def test_coco_bins_perfect_and_counts_sum_up():
    coco = coco_metrics(
        [ImageResult(BINNED, np.full(4, 0.9), BINNED), ImageResult(BINNED[1:], [0.8] * 3, BINNED[1:])]
    )
    assert coco.gt_counts == {"all": 7, "very_tiny": 1, "tiny": 2, "small": 2, "medium": 2}
    assert sum(v for k, v in coco.gt_counts.items() if k != "all") == coco.gt_counts["all"]
    for label in coco.ap:
        assert coco.ap[label] == pytest.approx(1.0) and coco.ap50[label] == pytest.approx(1.0)
    assert coco.max_dets == 1000


def test_coco_bins_separate_what_was_found():
    """Only the two smallest found: their bins score 1, the others 0, 'all' in between."""
    coco = coco_metrics([ImageResult(BINNED[:2], [0.9, 0.8], BINNED)])
    assert coco.ap["very_tiny"] == pytest.approx(1.0) and coco.ap["tiny"] == pytest.approx(1.0)
    assert coco.ap["small"] == 0.0 and coco.ap["medium"] == 0.0
    assert 0.0 < coco.ap["all"] < 1.0


def test_coco_ap_is_stricter_than_ap50_for_loose_boxes():
    loose = BINNED[3:] + [0, 0, 8, 8]  # IoU 1600/2304 ~ 0.69: a hit at 0.5, a miss from 0.7 up
    coco = coco_metrics([ImageResult(loose, [0.9], BINNED[3:])])
    assert coco.ap50["medium"] == pytest.approx(1.0) and coco.ap["medium"] == pytest.approx(0.4)


def test_report_serialises_and_prints(tmp_path):
    from engine.evaluation.evaluation_report import EvaluationReport

    results = [ImageResult(BINNED, np.full(4, 0.9), BINNED)]
    report = EvaluationReport(
        n_images=1,
        n_patches=1,
        n_patches_passed=1,
        patch_size=640,
        gate_threshold_used=-1.0,
        detection=detection_metrics(results),
        gate=gate_metrics(np.array([0.9]), np.array([True]), 0.5),
        coco=coco_metrics(results),
        seconds=0.1,
        device="cpu",
    )
    text = report.to_text()
    assert "VOC AP50" in text and "gate off" in text and "very_tiny" in text and " 0.85 " in text
    as_json = json.dumps(report.to_dict(), allow_nan=False)  # nan became null
    assert json.loads(as_json)["detection"]["ap50"] == pytest.approx(1.0)
    assert json.loads(as_json)["gate"]["aircraft_recall"] is None
