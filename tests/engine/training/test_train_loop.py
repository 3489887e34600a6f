import json

import numpy as np
import pytest
import torch

from engine.config import ModelConfig
from engine.network.checkpoint import load_checkpoint, load_checkpoint_model
from engine.training.patch_sampler import PatchSampler, SamplerConfig, TrainingImage
from engine.training.train_loop import CHECKPOINT_NAME, TrainConfig, train


def toy_images(count: int = 3, size: int = 256, seed: int = 0) -> list[TrainingImage]:
    """Bright plane-sized squares on textured ground: enough signal for a loss to fall quickly."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image = (rng.random((size, size, 3)) * 60 + 70).astype(np.uint8)
        boxes = []
        for _ in range(6):
            x, y = rng.integers(8, size - 48, 2)
            side = int(rng.integers(8, 40))
            image[y : y + side, x : x + side] = 235
            boxes.append([x, y, x + side, y + side])
        images.append(TrainingImage(image, np.array(boxes, np.float32)))
    return images


SMALL = ModelConfig(rpn_pre_nms_top_n=300, rpn_post_nms_top_n=64, anchor_sizes_px=(8.0, 16.0, 32.0))
SAMPLER = SamplerConfig(crop_px=128, positives_per_batch=2, negatives_per_batch=2, synthetic_fraction=0.0)


@pytest.mark.slow
def test_short_training_run_lowers_the_loss(tmp_path):
    lines = []
    config = TrainConfig(
        out_dir=str(tmp_path), steps=60, lr=3e-3, checkpoint_every=30, sampler=SAMPLER, model=SMALL, threads=1
    )
    train(config, toy_images(), log=lines.append)
    losses = [float(line.split("loss=")[1].split()[0]) for line in lines if line.startswith("step")]
    assert losses[-1] < 0.7 * losses[0], losses


def test_checkpoint_resume_and_weights_only_load(tmp_path):
    config = TrainConfig(out_dir=str(tmp_path), steps=6, checkpoint_every=100, sampler=SAMPLER, model=SMALL, threads=1)
    calls = []
    train(config, toy_images(), log=lambda _: None, should_stop=lambda: calls.append(1) or len(calls) >= 4)
    lines = []
    train(config, toy_images(), log=lines.append)
    assert lines[0] == "resumed from step 4"
    model = load_checkpoint_model(str(tmp_path / CHECKPOINT_NAME))
    assert model.config.anchor_sizes_px == SMALL.anchor_sizes_px
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["step"] == 6 and {"optimizer", "elapsed_s", "history", "model", "model_config"} <= set(state)
    saved = json.loads((tmp_path / "train_config.json").read_text())
    assert saved["steps"] == 6 and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_sampler_balances_and_labels_patches():
    sampler = PatchSampler(toy_images(), SAMPLER, seed=1)
    batch = sampler.next_batch()
    assert batch.images.shape == (4, 3, 128, 128) and batch.images.is_contiguous()
    assert batch.patch_positive[:2].all()
    assert not batch.patch_positive[2:].any()
    assert (batch.gt_boxes[batch.gt_valid] >= 0).all() and (batch.gt_boxes[batch.gt_valid] <= 128).all()
    assert torch.equal(batch.patch_positive, batch.gt_valid.any(dim=1))
