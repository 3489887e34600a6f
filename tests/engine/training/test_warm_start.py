"""Warm start: weights copied, RPN channels of new anchors seeded from the nearest old anchor; bf16 parity."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from engine.config import ModelConfig
from engine.network.checkpoint import load_checkpoint_model, save_checkpoint
from engine.network.r2cnn import build_r2cnn
from engine.runtime import bundled_model_path
from engine.training.patch_sampler import PatchSampler, SamplerConfig, TrainingImage
from engine.training.unified_step import LossConfig, unified_loss
from engine.training.warm_start import nearest_anchor, warm_start


def test_new_anchors_start_from_the_nearest_old_one(tmp_path):
    torch.manual_seed(0)
    old_config = dataclasses.replace(ModelConfig(), anchor_sizes_px=(10.0, 20.0, 40.0))
    old = build_r2cnn(old_config)
    path = tmp_path / "old.pt"
    save_checkpoint(path, old)
    new = build_r2cnn(dataclasses.replace(ModelConfig(), anchor_sizes_px=(10.0, 20.0, 40.0, 60.0)))
    notes = warm_start(new, path)
    assert any("rpn.deltas.weight" in note for note in notes)
    torch.testing.assert_close(
        new.tiny_net.state_dict()["conv1.0.weight"]
        if "conv1.0.weight" in new.tiny_net.state_dict()
        else next(iter(new.tiny_net.parameters())),
        next(iter(old.tiny_net.parameters())),
    )
    torch.testing.assert_close(new.rpn.objectness.weight[:3], old.rpn.objectness.weight)
    torch.testing.assert_close(new.rpn.objectness.weight[3], old.rpn.objectness.weight[2])
    torch.testing.assert_close(new.rpn.deltas.weight[12:16], old.rpn.deltas.weight[8:12])
    assert nearest_anchor((10.0, 20.0, 40.0), 60.0) == 2


def test_bf16_trunk_gives_the_fp32_loss_and_gradient_direction():
    """On the shipped (trained) weights: a random network's gradients are too chaotic to compare."""
    torch.manual_seed(0)
    model = load_checkpoint_model(bundled_model_path().with_suffix(".pt")).train()
    rng = np.random.default_rng(0)
    image = rng.integers(60, 160, (400, 400, 3)).astype(np.uint8)
    image[180:210, 180:210] = 250
    sampler = PatchSampler(
        [TrainingImage(image, np.array([[180, 180, 210, 210]], np.float32))],
        SamplerConfig(crop_px=192, positives_per_batch=1, negatives_per_batch=1),
        0,
    )
    batch = sampler.next_batch()
    results = []
    for bf16 in (False, True):
        model.zero_grad()
        loss, _ = unified_loss(model, batch, LossConfig(), bf16=bf16)
        loss.backward()
        results.append((float(loss), torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])))
    assert abs(results[0][0] - results[1][0]) < 0.05 * abs(results[0][0])
    assert torch.nn.functional.cosine_similarity(results[0][1], results[1][1], dim=0) > 0.98
