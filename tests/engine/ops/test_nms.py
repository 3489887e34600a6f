import numpy as np
import torch

from engine.ops.box_arrays import nms
from engine.ops.nms import fast_nms_keep


def test_fast_nms_suppresses_overlaps_keeps_distinct():
    boxes = torch.tensor([[[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 9]]])
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.6]])
    keep = fast_nms_keep(boxes, scores, 0.5)
    assert keep.tolist() == [[True, False, True, False]]


def test_fast_nms_never_keeps_more_than_greedy():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, (60, 2))
    wh = rng.uniform(5, 30, (60, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
    scores = np.sort(rng.uniform(size=60))[::-1].astype(np.float32).copy()
    fast = fast_nms_keep(torch.from_numpy(boxes)[None], torch.from_numpy(scores)[None], 0.5)[0].numpy()
    greedy = np.zeros(60, bool)
    greedy[nms(boxes, scores, 0.5)] = True
    assert not (fast & ~greedy).any()  # fast NMS is stricter: its survivors are greedy survivors
    assert fast[0] and greedy[0]
