"""`r2cnn generate`: writes the scene and its truth, refuses to clobber, one-line errors."""

from __future__ import annotations

import rasterio

from engine.cli.main import main
from engine.synthetic.scene_generator import read_truth


def test_generate_writes_scene_and_truth(tmp_path, capsys):
    out = tmp_path / "scene.tif"
    assert (
        main(["generate", str(out), "--width", "300", "--height", "200", "--seed", "4", "--airports", "1"])
        == 0
    )
    printed = capsys.readouterr().out
    assert f"scene: {out}" in printed and f"truth: {out}.boxes.csv" in printed
    with rasterio.open(out) as src:
        assert (src.width, src.height, src.nodata, src.dtypes[0]) == (300, 200, 0, "uint16")
    assert len(read_truth(out).boxes_raster_px) > 0
    assert main(["generate", str(out), "--width", "300", "--height", "200"]) == 2  # exists
    assert "exists" in capsys.readouterr().err
    assert main(["generate", str(out), "--width", "64", "--height", "64", "--overwrite"]) == 0


def test_generate_reports_a_missing_folder_in_one_line(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "nope" / "x.tif"), "--width", "64", "--height", "64"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_cli_error_is_an_engine_error_printed_in_one_line(tmp_path, capsys):
    from engine.cli import main as cli_main
    from engine.errors import CliError, R2cnnError

    assert issubclass(CliError, R2cnnError) and cli_main.CliError is CliError  # old import path kept
    model = str(tmp_path / "m.onnx")
    assert main(["quantize", model, "-o", model]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"r2cnn quantize: error: {model} is an input") and err.count("\n") == 1
