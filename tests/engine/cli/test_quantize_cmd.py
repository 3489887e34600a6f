"""`r2cnn quantize` and `r2cnn export --graph window`, and `r2cnn detect` with the models they write."""

from __future__ import annotations

import json

import onnx
import pytest

from engine.cli.main import main

pytest.importorskip("torch")


def test_export_window_graph_then_quantize_then_detect(tmp_path, capsys, tiny_models, make_raster, shared_dir):
    window = tmp_path / "tiny.window.onnx"
    assert main(["export", tiny_models.checkpoint, "-o", str(window), "--graph", "window"]) == 0
    meta = {p.key: p.value for p in onnx.load(str(window)).metadata_props}
    assert meta["r2cnn_graph"] == "window" and "r2cnn_config" in meta
    int8 = tmp_path / "tiny.window.int8.onnx"
    dataset = str(shared_dir / "datasets" / "airbus-aircraft")
    code = main(["quantize", str(window), "-o", str(int8), "--calibration-patches", "2", "--dataset", dataset])
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "convolutions int8" in out and "kept fp32" in out and "calibrated on 2 patches" in out
    record = json.loads({p.key: p.value for p in onnx.load(str(int8)).metadata_props}["r2cnn_quantization"])
    assert record["calibration_patches_used"] == 2
    stats = tmp_path / "stats.json"
    raster = make_raster("scene.tif")  # 150 x 100 px: smaller than one 128 px patch row... padded
    code = main(
        ["detect", raster, "-o", str(tmp_path / "out.gpkg"), "--model", str(int8), "--stats-json", str(stats), "-q"]
    )
    assert code == 0, capsys.readouterr().err
    run = json.loads(stats.read_text())["rasters"][0]
    assert run["window_patches"] == 3 and run["windows"] >= 1


def test_quantize_refuses_bad_requests(tmp_path, capsys, tiny_models):
    existing = tmp_path / "exists.onnx"
    existing.write_bytes(b"x")
    assert main(["quantize", tiny_models.patch_onnx, "-o", str(existing)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["quantize", tiny_models.patch_onnx, "-o", tiny_models.patch_onnx, "--overwrite"]) == 2
    assert "is an input" in capsys.readouterr().err
    assert main(["quantize", str(tmp_path / "absent.onnx"), "-o", str(tmp_path / "q.onnx")]) == 2
    assert "model file not found" in capsys.readouterr().err
    assert main(["quantize", tiny_models.patch_onnx, "-o", str(tmp_path / "q.onnx"), "--dataset", "nowhere"]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    assert not (tmp_path / "q.onnx").exists()
