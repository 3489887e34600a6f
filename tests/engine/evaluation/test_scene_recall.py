"""Scene matching for demo / bench / end-to-end: one-to-one at IoU >= 0.5, best scores first."""

from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.scene_recall import match_scene


def test_duplicates_count_once_and_misses_lower_recall():
    truth = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [100, 100, 108, 108]], float)
    detected = np.array([[0, 0, 10, 11], [0, 1, 10, 10], [52, 50, 62, 60], [200, 200, 210, 210]], float)
    match = match_scene(detected, np.array([0.9, 0.8, 0.7, 0.6]), truth)
    assert (match.matched, match.true_count, match.detected_count) == (2, 3, 4)
    assert match.recall == pytest.approx(2 / 3) and match.precision == pytest.approx(0.5)
    assert "IoU >= 0.5" in match.describe()


def test_empty_cases():
    assert match_scene(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 4))).recall == 1.0
    assert match_scene(np.zeros((0, 4)), np.zeros(0), np.array([[0, 0, 1, 1]])).recall == 0.0
