"""The whole-scene options of validation-scenes, train and export: nonsense is one line and exit 2, before work."""

from __future__ import annotations

import pytest

from engine.cli.main import main
from engine.cli.validation_scenes_cmd import scene_name
from engine.runtime import bundled_model_path


@pytest.mark.parametrize(
    "argv, message",
    [
        (["validation-scenes", "OUT", "--clutter", "lots"], "--clutter takes levels"),
        (["validation-scenes", "OUT", "--clutter", "1,11"], "--clutter takes levels"),
        (["train", "--scenes", "-1", "--steps", "1"], "--scenes: must be >= 0"),
        (["export", "CK", "-o", "OUT.onnx", "--calibration-scenes", "S"], "--calibration-scenes needs --calibrate"),
    ],
)
def test_bad_whole_scene_options_are_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[0] == "export":
        argv = [argv[0], str(bundled_model_path().with_suffix(".pt")), *argv[2:]]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal: usage, then the one error line
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def test_scene_names_keep_the_old_names_for_default_land():
    assert scene_name(10, 1.0, 2026) == "gf1_val_10bit_seed2026.tif"
    assert scene_name(12, 4.0, 2026) == "gf1_val_12bit_clutter4_seed2026.tif"
