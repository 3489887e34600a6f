"""After-session post-processing: exact greedy NMS, score threshold, mapping passed patches back."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ops.box_arrays import nms
from engine.runtime.postprocess import batch_result, filter_patch


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_nms_matches_a_plain_python_greedy_nms():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 30, (200, 2))], axis=1)
    scores = rng.uniform(0, 1, 200)
    expected: list[int] = []
    for i in sorted(range(200), key=lambda k: -scores[k]):
        if all(_iou(boxes[i], boxes[j]) <= 0.3 for j in expected):
            expected.append(i)
    assert nms(boxes, scores, 0.3).tolist() == expected


def test_filter_patch_thresholds_then_suppresses():
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [40, 40, 50, 50], [5, 5, 5, 9]], float
    )
    scores = np.array([0.9, 0.8, 0.4, 0.0, 0.95])
    kept = filter_patch(boxes, scores, min_score=0.3, nms_iou=0.3)
    assert kept.boxes_patch_px.tolist() == [[0, 0, 10, 10], [20, 20, 30, 30]]  # degenerate box dropped too
    assert kept.scores.tolist() == pytest.approx([0.9, 0.4])
    assert filter_patch(boxes, scores, min_score=0.0, nms_iou=0.3).scores.min() > 0  # suppressed ones carry 0


def test_batch_result_maps_passed_rows_to_their_patches():
    boxes = np.array([[[0, 0, 4, 4]], [[1, 1, 3, 3]]], np.float32)
    result = batch_result(
        np.array([0.9, 0.1, 0.8]), np.array([0, 2]), boxes, np.array([[0.7], [0.6]]), 0.5, 0.3
    )
    assert [len(d.scores) for d in result.detections] == [1, 0, 1]
    assert result.detections[2].boxes_patch_px.tolist() == [[1, 1, 3, 3]]
    with pytest.raises(ValueError, match="outside the batch"):
        batch_result(np.array([0.9]), np.array([3]), boxes[:1], np.array([[0.7]]), 0.5, 0.3)
