"""The run-settings rules (engine.runtime.run_settings): unset means the model's value, limits, messages."""

from __future__ import annotations

import dataclasses

import pytest

from engine.config import DetectConfig, ModelConfig
from engine.contract import GATE_OFF
from engine.errors import R2cnnError, SettingsError
from engine.runtime.run_settings import (
    MIN_TILE_PX,
    RunSettings,
    check_fraction,
    check_tile_size,
    gate_threshold_for,
    score_threshold_for,
    stream_gate_threshold,
)

MODEL = ModelConfig(patch_size=128, overlap=0.25, score_threshold=0.4, gate_threshold=0.6)


def test_unset_values_are_the_models_and_set_ones_are_kept():
    settings = RunSettings.resolve(DetectConfig(), MODEL)
    assert settings == RunSettings(score_threshold=0.4, gated=True, gate_threshold=0.6, tile_px=128, overlap=0.25,
                                   cascade=False)
    assert settings.stream_gate_threshold == 0.6
    assert RunSettings.resolve(DetectConfig(cascade=True), MODEL).cascade
    assert not RunSettings.resolve(DetectConfig(cascade=True, use_gate=False), MODEL).cascade  # --no-gate: plain
    chosen = RunSettings.resolve(
        DetectConfig(score_threshold=0.0, gate_threshold=0.1, tile_size=96, overlap=0.0), MODEL
    )
    assert (chosen.score_threshold, chosen.gate_threshold, chosen.tile_px, chosen.overlap) == (0.0, 0.1, 96, 0.0)
    assert score_threshold_for(MODEL, None) == 0.4 and score_threshold_for(MODEL, 0.0) == 0.0
    assert gate_threshold_for(MODEL, None) == 0.6 and gate_threshold_for(MODEL, 0.2) == 0.2


def test_gate_off_streams_every_patch_but_keeps_the_threshold_for_reports():
    settings = RunSettings.resolve(DetectConfig(use_gate=False), MODEL)
    assert not settings.gated and settings.stream_gate_threshold == GATE_OFF
    assert settings.gate_threshold == 0.6  # what the gate figures are reported at
    assert stream_gate_threshold(MODEL, 0.3, False) == GATE_OFF
    assert stream_gate_threshold(MODEL, None, True) == 0.6 and stream_gate_threshold(MODEL, 0.3, True) == 0.3


def test_tile_size_limits_have_one_message_each():
    check_tile_size(None, 64)
    check_tile_size(MIN_TILE_PX)
    check_tile_size(64, 64)
    with pytest.raises(SettingsError, match=f"^the tile size must be at least {MIN_TILE_PX} px, got 16$"):
        check_tile_size(16)
    with pytest.raises(SettingsError, match="^this model takes 64 px patches; a tile size of 128 px is not possible$"):
        check_tile_size(128, 64)
    with pytest.raises(SettingsError, match="at least 32 px"):  # the smaller limit first, even with a fixed size
        RunSettings.resolve(DetectConfig(tile_size=16), MODEL, fixed_patch_px=64)
    assert issubclass(SettingsError, R2cnnError)  # the CLI and the plugin turn it into their one line


def test_a_fixed_shape_detector_takes_only_its_size():
    class Fixed:
        config = dataclasses.replace(MODEL, patch_size=64)
        patch_size = 64

    assert RunSettings.for_detector(DetectConfig(), Fixed()).tile_px == 64
    with pytest.raises(SettingsError, match="64 px patches"):
        RunSettings.for_detector(DetectConfig(tile_size=96), Fixed())


def test_thresholds_outside_zero_one_are_refused():
    check_fraction("--gate-threshold", None)
    check_fraction("--gate-threshold", 1.0)
    with pytest.raises(SettingsError, match=r"^--gate-threshold must be in \[0, 1\], got 1.5$"):
        check_fraction("--gate-threshold", 1.5)
    with pytest.raises(SettingsError, match="score threshold"):
        RunSettings.resolve(DetectConfig(score_threshold=-0.1), MODEL)
