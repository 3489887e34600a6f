"""Eq. 2 k-means: finds the optimum on separable data, is deterministic, and the CLI writes a config."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from engine.anchors.kmeans_scales import box_scales_px, inertia, kmeans_anchor_sizes, scale_stats
from engine.cli.main import main
from engine.config import ModelConfig


def _best_contiguous_partition(sizes: np.ndarray, k: int) -> float:
    """Brute force: in 1-D the optimal clusters are contiguous runs of the sorted values."""
    values = np.sort(sizes)
    best = np.inf
    for cuts in itertools.combinations(range(1, len(values)), k - 1):
        groups = np.split(values, cuts)
        best = min(best, sum(float(((g - g.mean()) ** 2).sum()) for g in groups))
    return best


def test_recovers_separated_clusters_and_reaches_the_optimum():
    rng = np.random.default_rng(1)
    sizes = np.concatenate([rng.normal(c, 0.5, 5) for c in (6.0, 15.0, 40.0)])
    centres = kmeans_anchor_sizes(sizes, k=3, seed=0)
    assert list(centres) == sorted(centres)
    np.testing.assert_allclose(centres, [sizes[:5].mean(), sizes[5:10].mean(), sizes[10:].mean()], rtol=1e-9)
    assert inertia(sizes, centres) == pytest.approx(_best_contiguous_partition(sizes, 3))


def test_deterministic_for_a_seed_and_k_sizes():
    sizes = np.random.default_rng(2).lognormal(np.log(20), 0.5, 500)
    first = kmeans_anchor_sizes(sizes, k=6, seed=0)
    assert first == kmeans_anchor_sizes(sizes, k=6, seed=0)
    assert len(first) == 6 and all(a < b for a, b in zip(first, first[1:], strict=False))
    assert sizes.min() <= first[0] and first[-1] <= sizes.max()


def test_rejects_too_few_distinct_sizes_and_bad_values():
    with pytest.raises(ValueError, match="distinct"):
        kmeans_anchor_sizes(np.array([4.0, 4.0, 8.0]), k=3)
    with pytest.raises(ValueError, match="positive"):
        kmeans_anchor_sizes(np.array([4.0, -1.0, 8.0]), k=2)


def test_box_scales_and_stats():
    boxes = np.array([[0, 0, 4, 9], [10, 10, 10, 20], [0, 0, 8, 8]], dtype=np.float32)
    np.testing.assert_allclose(box_scales_px(boxes), [6.0, 8.0])  # the degenerate box is dropped
    stats = scale_stats(np.array([1.0, 2.0, 3.0]))
    assert (stats.count, stats.minimum, stats.median, stats.maximum) == (3, 1.0, 2.0, 3.0)


def test_cli_on_the_airbus_training_split(shared_dir, tmp_path, capsys):
    config_path = tmp_path / "model.json"
    dataset = shared_dir / "datasets" / "airbus-aircraft"
    assert main(["anchors", "--dataset", str(dataset), "--write-config", str(config_path)]) == 0
    out = capsys.readouterr().out
    assert "boxes (train split" in out and "anchor sizes (px):" in out
    config = ModelConfig.from_json(config_path.read_text())
    assert len(config.anchor_sizes_px) == 6 and list(config.anchor_sizes_px) == sorted(config.anchor_sizes_px)
    assert 6.0 < config.anchor_sizes_px[0] < config.anchor_sizes_px[-1] < 60.0  # Airbus at 2 m: 6-57 px
    assert json.loads(config_path.read_text())["gsd_m"] == 2.0


def test_cli_falls_back_to_the_paper_without_data(monkeypatch, tmp_path, capsys):
    from engine.datasets import airbus

    monkeypatch.setattr(airbus, "DEFAULT_AIRBUS_ROOT", tmp_path / "absent")
    config_path = tmp_path / "paper.json"
    assert main(["anchors", "--write-config", str(config_path)]) == 0
    assert "paper's default" in capsys.readouterr().err
    assert ModelConfig.from_json(config_path.read_text()).anchor_sizes_px == ModelConfig().anchor_sizes_px
    assert main(["anchors", "--dataset", str(tmp_path / "absent")]) == 2  # an explicit folder must exist
    assert main(["anchors", "--write-config", str(tmp_path / "no" / "dir.json")]) == 2
    assert not (tmp_path / "no").exists()
