"""`r2cnn demo`: generated scene -> GeoPackage + quicklook + recall line (mechanics with a test model)."""

from __future__ import annotations

import os

from engine.cli.main import main


def test_demo_writes_outputs_and_reports_recall(tmp_path, capsys, blob_model_path):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--size", "256", "--model", blob_model_path, "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(os.listdir(out)) == [
        "demo_aircraft.gpkg",
        "demo_quicklook.png",
        "demo_scene.tif",
        "demo_scene.tif.boxes.csv",
    ]
    lines = captured.out.splitlines()
    assert lines[0].endswith("demo_scene.tif") and lines[1].endswith("demo_aircraft.gpkg")
    assert lines[2].endswith("demo_quicklook.png")
    assert "recall" in lines[3] and "IoU >= 0.5" in lines[3]


def test_demo_without_the_bundled_model_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("engine.runtime.bundled_model_path", lambda: tmp_path / "absent.onnx")
    code = main(["demo", "--out", str(tmp_path / "d"), "--size", "256"])
    err = capsys.readouterr().err
    assert code == 2 and "bundled model is missing" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()
