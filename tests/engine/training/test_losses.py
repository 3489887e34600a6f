import math

import torch

from engine.training.losses import jol_weights


def logits_for(prob: float) -> torch.Tensor:
    return torch.tensor([math.log(1 - prob), math.log(prob)])


def test_jol_weights_hand_cases():
    box = torch.tensor([0.0, 0.0, 10.0, 10.0])
    half = torch.tensor([0.0, 0.0, 10.0, 5.0])  # IoU 0.5 with box
    cls_logits = torch.stack([logits_for(1.0 - 1e-7), logits_for(0.5), logits_for(0.8)])[None]
    labels = torch.tensor([[1, 1, 0]])
    decoded = torch.stack([box, half, box])[None]
    targets = torch.stack([box, box, box])[None]
    w = jol_weights(cls_logits, labels, decoded, targets)[0]
    assert abs(w[0] - 1.0) < 1e-4  # perfect positive: 2^0
    assert abs(w[1] - 2 ** (1 - 0.25)) < 1e-4  # S_loc 0.5, S_cls 0.5
    assert abs(w[2] - (w[0] + w[1]) / 2) < 1e-5  # negatives: mean of positive weights
    assert ((w >= 1) & (w <= 2)).all()


def test_jol_weights_carry_no_gradient():
    cls_logits = torch.zeros(1, 2, 2, requires_grad=True)
    w = jol_weights(cls_logits, torch.tensor([[1, 0]]), torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))
    assert not w.requires_grad


def test_jol_without_positives_weighs_one():
    w = jol_weights(
        torch.zeros(1, 3, 2), torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)
    )
    assert torch.allclose(w, torch.ones(1, 3))
