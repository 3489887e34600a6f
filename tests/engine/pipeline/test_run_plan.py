"""RunPlan: the settings of engine.runtime.run_settings, and the run's score threshold applied exactly once."""

from __future__ import annotations

import pytest

from engine.config import DetectConfig
from engine.contract import GATE_OFF
from engine.errors import SettingsError
from engine.pipeline.run_plan import RunPlan


def test_plan_reads_the_settings(fake_detector):
    plan = RunPlan.of(DetectConfig(use_gate=False, batch_size=0), fake_detector)
    assert plan.score_threshold == fake_detector.config.score_threshold
    assert plan.gate_threshold == GATE_OFF and plan.settings.gate_threshold == fake_detector.config.gate_threshold
    assert (plan.tile_px, plan.overlap, plan.batch_size) == (64, 0.25, 1)
    with pytest.raises(SettingsError, match="at least 32 px"):
        RunPlan.of(DetectConfig(tile_size=8), fake_detector)


def test_the_pipeline_filters_only_what_the_detector_did_not(fake_detector):
    assert RunPlan.of(DetectConfig(score_threshold=0.7), fake_detector).score_filter == 0.7  # no min_score
    fake_detector.min_score = 0.7
    assert RunPlan.of(DetectConfig(score_threshold=0.7), fake_detector).score_filter is None
    assert RunPlan.of(DetectConfig(score_threshold=0.5), fake_detector).score_filter is None  # stricter floor
    assert RunPlan.of(DetectConfig(score_threshold=0.9), fake_detector).score_filter == 0.9
