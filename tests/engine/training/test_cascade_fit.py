"""The cascade's fit: dense targets where the aircraft centres are, a threshold that keeps the stated share,
and an exported file that the runtime loads and that scores as the torch net does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.config import CascadeConfig
from engine.runtime.cascade_runtime import CascadeScorer
from engine.training.cascade_data import DecimatedScene
from engine.training.cascade_fit import CascadeFitConfig, _crop, calibrate, export_cascade, fit_cascade, patch_scores


def _scene(rng) -> DecimatedScene:
    view = rng.integers(90, 130, (2, 200, 200)).astype(np.uint8)
    boxes = np.array([[400.0, 300.0, 420.0, 318.0], [100.0, 600.0, 112.0, 610.0]], np.float32)  # model px
    for x0, y0, x1, y1 in boxes / 4:
        view[:, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = 250
    patches = np.stack([view[:, :160, :160], view[:, 40:, 40:]])
    return DecimatedScene("s", view, boxes, patches, np.array([True, True]), np.array([12.0, 20.0]))


def test_crop_targets_sit_on_the_aircraft_centres():
    rng = np.random.default_rng(0)
    scene = _scene(rng)
    for _ in range(20):
        image, target, weight = _crop(scene, rng, 80, 4, near=True)
        assert image.shape == (2, 80, 80) and target.shape == weight.shape == (20, 20)
        assert target.sum() >= 1 and (weight[target > 0] == 1).all()
        i, j = np.argwhere(target > 0)[0]
        assert image[:, 4 * i : 4 * i + 4, 4 * j : 4 * j + 4].max() == 250  # the cell holds the bright aircraft
        assert (weight == 0).any()  # the neighbours of a centre give no verdict


def test_calibration_keeps_the_stated_share():
    rng = np.random.default_rng(1)
    positive = rng.random(1000) < 0.3
    scores = np.where(positive, rng.uniform(0.3, 1.0, 1000), rng.uniform(0.0, 0.6, 1000))
    smallest = np.where(positive, rng.uniform(6, 60, 1000), np.inf)
    report = calibrate(scores, positive, smallest, 0.995)
    assert report["kept_share"] >= 0.995 and report["positive_patches"] == int(positive.sum())
    above = np.sort(scores[positive])
    assert (scores[positive] >= np.nextafter(report["threshold"], 2)).mean() < 0.995  # the highest such threshold
    assert 0 < report["negative_pass_share"] < 1 and report["tiny_patches"] > 0 and above[0] <= report["threshold"]
    with pytest.raises(ValueError):
        calibrate(scores, np.zeros(1000, bool), smallest, 0.995)


def test_fit_then_export_scores_alike_in_the_runtime(tmp_path):
    torch.set_num_threads(1)
    scene = _scene(np.random.default_rng(2))
    net = fit_cascade([scene], CascadeFitConfig(max_steps=3, batch_size=4, minutes=1.0), log=lambda _l: None)
    config = dataclasses.replace(CascadeConfig(), threshold=0.42, calibrated_keep=0.996)
    path = tmp_path / "c.onnx"
    export_cascade(net, str(path), config, {"note": "test"})
    scorer = CascadeScorer(str(path), threads=1)
    assert scorer.config == config
    np.testing.assert_allclose(scorer(scene.patches_u8), patch_scores(net, scene.patches_u8), atol=1e-5)
    wide = np.concatenate([scene.patches_u8, scene.patches_u8], axis=3)  # any size: fully convolutional
    assert scorer(wide).shape == (2,)
