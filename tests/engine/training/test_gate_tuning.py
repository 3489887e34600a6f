import dataclasses

import numpy as np
import torch

from engine.config import ModelConfig
from engine.network.r2cnn import build_r2cnn
from engine.training.gate_tuning import (
    GatePatches,
    GateTuningConfig,
    fit_gate,
    frozen_gate_features,
    generated_gate_patches,
)


def test_old_configs_keep_mean_pooling_and_new_ones_pool_by_max():
    old = ModelConfig().to_json().replace(', "gate_pooling": "max"', "")
    assert "gate_pooling" not in old
    assert ModelConfig.from_json(old).gate_pooling == "mean"
    assert ModelConfig.from_json(ModelConfig().to_json()).gate_pooling == "max"


def test_max_pooled_gate_is_not_diluted_by_empty_ground():
    model = build_r2cnn(ModelConfig(patch_size=128)).eval()
    body = model.classifier.body
    features = torch.zeros(1, 72, 8, 8)
    features[..., 3, 3] = 5.0
    bigger = torch.zeros(1, 72, 16, 16)
    bigger[..., 3, 3] = 5.0
    assert torch.allclose(body(features).amax(dim=(2, 3)), body(bigger).amax(dim=(2, 3)), atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(model.classifier(features), model.classifier(bigger), atol=1e-5)


def test_generated_patches_are_labelled_by_aircraft_centres():
    config = GateTuningConfig(scenes=1, scene_px=1024, max_airports=1, extra_positives_per_scene=3, seed=3)
    patches = generated_gate_patches(config, patch_px=256, overlap=0.2, fill_value=110.0)
    assert patches.images_u8.dtype == np.uint8 and patches.images_u8.shape[1:] == (3, 256, 256)
    assert len(patches.positive) == len(patches.images_u8)
    assert patches.positive.sum() >= 3  # the patches placed on aircraft
    assert (~patches.positive).sum() >= 1


def test_fit_gate_moves_only_the_classifier():
    torch.manual_seed(0)
    model = build_r2cnn(dataclasses.replace(ModelConfig(patch_size=64), gate_pooling="mean")).eval()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 60, size=(8, 3, 64, 64)).astype(np.uint8)
    images[:4, :, 20:30, 20:30] = 250  # a bright blob marks the positives
    positive = np.array([True] * 4 + [False] * 4)
    features = frozen_gate_features(model, GatePatches(images, positive))
    assert features.shape[0] == 16  # each patch and its mirror
    tuned = fit_gate(model, features, positive, GateTuningConfig(epochs=30, batch_size=8, lr=5e-3), log=lambda _: None)
    assert tuned.config.gate_pooling == "max"
    before, after = model.state_dict(), tuned.state_dict()
    for key in before:
        if not key.startswith("classifier."):
            assert torch.equal(before[key], after[key]), key
    with torch.no_grad():
        scores = tuned.classifier(features).softmax(1)[:, 1].numpy()
    labels = np.concatenate([positive, positive])
    assert scores[labels].min() > scores[~labels].max()


def test_the_tuning_grid_is_detect_rasters_grid_at_a_random_phase():
    from engine.pipeline.tiling import tile_grid
    from engine.training.gate_tuning import phased_grid

    origins = phased_grid(np.random.default_rng(5), 1024, 256, 0.2)
    x0, y0 = origins[0]
    assert 0 <= x0 < 205 and 0 <= y0 < 205  # within one stride (256 - 51 px)
    assert origins == [tuple(o) for o in tile_grid(1024, 1024, 256, 0.2, (x0, y0, 1024, 1024)).tolist()]
    assert max(x for x, _ in origins) == max(y for _, y in origins) == 1024 - 256  # flush with the edge
