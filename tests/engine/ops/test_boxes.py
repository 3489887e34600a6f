import math

import torch

from engine.ops.boxes import RFCN_WEIGHTS, box_iou, clip_boxes, decode_boxes, encode_boxes


def test_encode_decode_round_trip():
    torch.manual_seed(0)
    ref = torch.tensor([[10.0, 10.0, 30.0, 20.0], [0.0, 0.0, 6.0, 6.0], [100.0, 50.0, 160.0, 170.0]])
    tgt = torch.tensor([[12.0, 8.0, 33.0, 25.0], [1.0, 2.0, 9.0, 7.0], [90.0, 60.0, 150.0, 150.0]])
    for weights in ((1.0, 1.0, 1.0, 1.0), RFCN_WEIGHTS):
        deltas = encode_boxes(ref, tgt, weights)
        assert torch.allclose(decode_boxes(ref, deltas, weights), tgt, atol=1e-4)


def test_encode_known_values():
    deltas = encode_boxes(torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([[5.0, 0.0, 15.0, 20.0]]))
    assert torch.allclose(deltas, torch.tensor([[0.5, 0.5, 0.0, math.log(2.0)]]))


def test_decode_clamps_huge_deltas():
    out = decode_boxes(torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([[0.0, 0.0, 100.0, 100.0]]))
    assert torch.isfinite(out).all()


def test_iou_against_direct_formula():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 5.0, 15.0, 15.0], [20.0, 20.0, 30.0, 30.0], [0.0, 0.0, 10.0, 10.0]])
    iou = box_iou(a, b)
    assert torch.allclose(iou, torch.tensor([[25.0 / 175.0, 0.0, 1.0]]))


def test_clip():
    out = clip_boxes(torch.tensor([[-5.0, -1.0, 700.0, 30.0]]), 640, 640)
    assert out.tolist() == [[0.0, 0.0, 640.0, 30.0]]
