"""The unified loss: the detector learns from crops without aircraft only when asked to."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from engine.network.checkpoint import load_checkpoint_model
from engine.runtime import bundled_model_path
from engine.training.patch_sampler import Batch, PatchSampler, SamplerConfig, TrainingImage
from engine.training.unified_step import LossConfig, unified_loss


def _batch() -> Batch:
    """One crop with a bright square aircraft and three of empty, textured land."""
    rng = np.random.default_rng(3)
    image = rng.integers(60, 160, (600, 600, 3)).astype(np.uint8)
    image[280:310, 280:310] = 250
    sampler = PatchSampler(
        [TrainingImage(image, np.array([[280, 280, 310, 310]], np.float32))],
        SamplerConfig(crop_px=192, positives_per_batch=1, negatives_per_batch=3),
        0,
    )
    return sampler.next_batch()


def _detector_losses(batch: Batch, config: LossConfig) -> tuple[float, float]:
    torch.manual_seed(0)  # the RPN's label sampling draws from torch's generator
    # eval: batch norm uses its running statistics, so a patch's losses do not depend on its batch mates
    model = load_checkpoint_model(bundled_model_path().with_suffix(".pt")).eval()
    with torch.no_grad():
        _, parts = unified_loss(model, batch, config)
    return float(parts["rpn"]), float(parts["rfcn"])


def test_negative_crops_change_the_detector_losses_only_when_enabled():
    batch = _batch()
    assert int(batch.patch_positive.sum()) == 1 and len(batch.patch_positive) == 4
    positives_only = _detector_losses(batch, LossConfig())
    with_negatives = _detector_losses(batch, LossConfig(detector_on_negatives=True))
    assert positives_only != with_negatives
    # the same positive crop alone gives the positives-only losses: negatives are skipped by default
    alone = Batch(*(t[:1] if isinstance(t, torch.Tensor) else t[:1] for t in dataclasses.astuple(batch)))
    np.testing.assert_allclose(positives_only, _detector_losses(alone, LossConfig()), rtol=1e-5)
