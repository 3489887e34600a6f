"""The one numpy box module: IoU, IoS, exact NMS and the one-to-one matcher on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ops.box_arrays import centres_inside, greedy_match, pairwise_ios, pairwise_iou, wholly_inside

GT = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], dtype=np.float64)


def test_pairwise_iou_and_ios():
    others = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 5, 5]])
    assert pairwise_iou(np.array([0, 0, 10, 10]), others)[0].tolist() == pytest.approx([1.0, 1 / 3, 0.0, 0.25])
    # a quarter lying inside the whole box: low IoU, IoS 1
    assert pairwise_ios(np.array([0, 0, 10, 10]), others)[0].tolist() == pytest.approx([1.0, 0.5, 0.0, 1.0])
    assert pairwise_iou(np.zeros((0, 4)), others).shape == (0, 4)


def test_greedy_match_higher_score_takes_the_truth_once():
    matching = greedy_match(np.array([GT[0], GT[0], GT[1] + 1]), np.array([0.5, 0.9, 0.7]), GT)
    assert matching.is_tp.tolist() == [False, True, True]
    assert matching.truth_index.tolist() == [-1, 0, 1]
    assert matching.truth_found.tolist() == [True, True]
    assert matching.iou[2] == pytest.approx(81 / 119)


def test_greedy_match_respects_the_iou_threshold_and_empty_inputs():
    low = GT[:1] + [4, 0, 4, 0]  # IoU 6/14
    assert greedy_match(low, [0.9], GT[:1]).is_tp.tolist() == [False]
    assert greedy_match(low, [0.9], GT[:1], iou_threshold=0.4).is_tp.tolist() == [True]
    assert greedy_match(np.zeros((0, 4)), [], GT).truth_found.tolist() == [False, False]
    assert greedy_match(GT, [0.9, 0.8], np.zeros((0, 4))).is_tp.tolist() == [False, False]


def test_centres_and_whole_boxes_inside_a_patch():
    boxes = np.array([[60, 20, 68, 28], [10, 10, 20, 20]], float)
    assert centres_inside(boxes, 0, 0, 64).tolist() == [False, True]
    assert centres_inside(boxes, 48, 0, 64).tolist() == [True, False]
    assert wholly_inside(boxes, (0, 0, 64, 64)).tolist() == [False, True]


def test_boxes_scale_between_raster_and_model_px_and_back():
    from engine.ops.box_arrays import boxes_to_model_px, boxes_to_raster_px

    model_px = np.array([[1.0, 2.0, 11.0, 12.0]])
    raster = boxes_to_raster_px(model_px, (0.5, 2.0), origin_model_px=(512, 1024))
    np.testing.assert_array_equal(raster, [[256.5, 2052.0, 261.5, 2072.0]])
    np.testing.assert_array_equal(boxes_to_model_px(raster, (0.5, 2.0)), model_px + [512, 1024, 512, 1024])
    single = boxes_to_model_px([[3, 3, 6, 9]], (3.0, 3.0), np.float32)
    assert single.dtype == np.float32 and single.tolist() == [[1, 1, 2, 3]]
    assert boxes_to_raster_px(np.zeros((0, 4)), (2.0, 2.0)).shape == (0, 4)
