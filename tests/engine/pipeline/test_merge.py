"""Cross-patch merge: a border-cut aircraft is reported once; distinct neighbours stay apart."""

from __future__ import annotations

import numpy as np

from engine.ops.box_arrays import pairwise_ios
from engine.pipeline.merge import clip_to_region, merge_boxes, patch_to_raster_px


def test_patch_to_raster_px_shifts_by_the_origin_then_scales():
    boxes = patch_to_raster_px(np.array([[1, 2, 11, 12]], float), (512, 1024), (0.5, 2.0))
    assert boxes.tolist() == [[256.5, 2052.0, 261.5, 2072.0]]


def test_half_of_a_cut_aircraft_merges_into_the_whole_one():
    whole = [100, 100, 140, 130]  # seen entirely by the right-hand patch
    left_half = [100, 100, 118, 130]  # the left patch's border cuts it at x = 118
    boxes, leaders = merge_boxes(np.array([left_half, whole], float), np.array([0.95, 0.8]))
    assert boxes.tolist() == [whole]  # union: the cut half never shrinks the box
    assert leaders.tolist() == [0]  # ... and the best score is kept


def test_neighbouring_aircraft_are_not_merged():
    a, b = [0, 0, 20, 20], [18, 0, 38, 20]  # overlap 2 px wide: IoS 0.1
    boxes, leaders = merge_boxes(np.array([a, b], float), np.array([0.6, 0.9]))
    assert sorted(boxes.tolist()) == [a, b]
    assert leaders.tolist() == [1, 0]  # best first


def test_duplicates_from_three_overlapping_patches_become_one():
    base = np.array([50.0, 60.0, 62.0, 70.0])
    boxes = np.stack([base, base + [0.5, 0, 0.5, 0], base + [0, -0.5, 0, -0.5], base + 500])
    merged, leaders = merge_boxes(boxes, np.array([0.7, 0.9, 0.8, 0.5]))
    assert len(merged) == 2 and leaders.tolist() == [1, 3]


def test_merge_of_many_random_boxes_matches_a_brute_force_greedy_merge():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 400, (300, 2))
    wh = rng.uniform(4, 40, (300, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    scores = rng.uniform(0, 1, 300)
    merged, leaders = merge_boxes(boxes, scores, 0.5)
    alive, expect = np.ones(300, bool), []
    for i in np.argsort(-scores, kind="stable"):
        if alive[i]:
            members = np.flatnonzero(alive & (pairwise_ios(boxes[i], boxes)[0] >= 0.5))
            alive[members] = False
            alive[i] = False
            expect.append(i)
    assert leaders.tolist() == expect


def test_empty_input():
    merged, leaders = merge_boxes(np.zeros((0, 4)), np.zeros((0,)))
    assert merged.shape == (0, 4) and leaders.shape == (0,)


def test_clip_to_region_drops_boxes_in_the_padding():
    boxes, keep = clip_to_region(np.array([[90, 10, 110, 20], [120, 10, 130, 20]], float), (0, 0, 100, 50))
    assert keep.tolist() == [True, False]
    assert boxes[0].tolist() == [90, 10, 100, 20]


def test_boxes_of_one_patch_do_not_widen_the_union_but_those_of_other_patches_do():
    """The per-patch NMS already chose a patch's own extent: a low-scored box around an aircraft is absorbed
    without growing the aircraft's box; a cut half from the neighbouring patch widens the leader."""
    aircraft, around = [100, 100, 120, 118], [90, 95, 160, 125]  # IoS 1: the aircraft lies inside
    leader_cut = [100, 100, 110, 118]  # the patch to the left cuts the aircraft at x = 110 and scores it best
    boxes = np.array([leader_cut, around, aircraft], float)
    scores = np.array([0.9, 0.2, 0.6])
    merged, leaders = merge_boxes(boxes, scores, 0.5, patch_ids=np.array([4, 4, 5]))
    assert leaders.tolist() == [0] and merged.tolist() == [aircraft]  # the whole aircraft, not the wide box
    merged, leaders = merge_boxes(boxes, scores, 0.5)  # no patch ids: every box its own patch
    assert leaders.tolist() == [0] and merged.tolist() == [around]
