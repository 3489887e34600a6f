"""`r2cnn detect`: a real run on a tiny raster; each bad input: one clear line, exit 2, nothing written."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from osgeo import ogr

from engine.cli.main import main
from engine.ops.aircraft_size import size_classes
from tests.engine.hostile_files import write_torch_like_pickle


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _features(path) -> list[dict]:
    dataset = ogr.Open(str(path))  # keep a reference: GDAL 3.6 layers do not keep their dataset alive
    return [f.items() for f in dataset.GetLayerByName("aircraft")]


def _count(path) -> int:
    return len(_features(path))


def test_detect_writes_one_feature_per_blob_and_stats(tmp_path, capsys, blob_model_path, make_raster):
    raster = make_raster("scene.tif")
    out, stats = tmp_path / "out.gpkg", tmp_path / "stats.json"
    code, _, err = _run(
        capsys,
        "detect",
        raster,
        "-o",
        str(out),
        "--model",
        blob_model_path,
        "--device",
        "cpu",
        "--stats-json",
        str(stats),
    )
    assert code == 0, err
    assert _count(out) == 2
    assert "2 aircraft" in err and "on cpu" in err
    dataset = ogr.Open(str(out))
    for feature in dataset.GetLayerByName("aircraft"):  # sizes: the box's sides in metres (UTM, 2 m pixels)
        x0, x1, y0, y1 = feature.GetGeometryRef().GetEnvelope()
        sides = sorted((x1 - x0, y1 - y0))
        assert (feature["width_m"], feature["length_m"]) == pytest.approx(sides, abs=0.01)
        assert 8 <= feature["length_m"] <= 20 and feature["size_class"] == size_classes([feature["length_m"]])[0]
    report = json.loads(stats.read_text())["rasters"][0]
    assert report["patches_total"] == 6 and report["detections"] == 2 and report["device"] == "cpu"
    assert report["peak_rss_mb"] > 0 and "network" in report["stage_seconds"]


def test_several_rasters_one_geopackage_and_quiet(tmp_path, capsys, blob_model_path, make_raster):
    a, b = make_raster("a.tif"), make_raster("b.tif")
    out = tmp_path / "out.gpkg"
    code, stdout, err = _run(
        capsys, "detect", a, b, "-o", str(out), "--model", blob_model_path, "-q", "--no-gate"
    )
    assert code == 0 and stdout == "" and err == ""
    sources = sorted(f["source"] for f in _features(out))
    assert sources == ["a.tif", "a.tif", "b.tif", "b.tif"]


def test_each_raster_is_opened_and_planned_once(tmp_path, capsys, blob_model_path, make_raster, monkeypatch):
    import engine.pipeline.detect as detect
    from engine.pipeline.raster_reader import RasterScene

    opened, planned = [], []
    real_init, real_check = RasterScene.__init__, detect.check_scene

    def counting_init(self, path, *args, **kwargs):
        opened.append(os.path.basename(path))
        real_init(self, path, *args, **kwargs)

    def counting_check(scene, *args, **kwargs):
        planned.append(os.path.basename(scene.path))
        return real_check(scene, *args, **kwargs)

    monkeypatch.setattr(RasterScene, "__init__", counting_init)
    monkeypatch.setattr(detect, "check_scene", counting_check)
    rasters = [make_raster("a.tif"), make_raster("b.tif")]
    code, _, _ = _run(capsys, "detect", *rasters, "--model", blob_model_path, "-o", str(tmp_path / "o.gpkg"), "-q")
    assert code == 0
    assert sorted(opened) == sorted(planned) == ["a.tif", "b.tif"]


def test_unreferenced_raster_warns_and_still_writes(tmp_path, capsys, blob_model_path, make_raster):
    raster = make_raster("plain.tif", crs=None)
    out = tmp_path / "out.gpkg"
    code, _, err = _run(capsys, "detect", raster, "-o", str(out), "--model", blob_model_path, "-q")
    assert code == 0 and "warning:" in err and "pixel space" in err
    assert _count(out) == 2


def test_overwrite_replaces_an_existing_output(tmp_path, capsys, blob_model_path, make_raster):
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"old")
    code, _, _ = _run(
        capsys,
        "detect",
        make_raster("s.tif"),
        "-o",
        str(out),
        "--model",
        blob_model_path,
        "--overwrite",
        "-q",
    )
    assert code == 0 and _count(out) == 2


def _torch_like_pickle(path) -> str:
    return str(write_torch_like_pickle(path, {"state_dict": {}}))


def _bad_inputs(tmp_path, make_raster, blob_model_path):
    """(name, argv without -o, expected message part): every bad input of the issue."""
    good = make_raster("good.tif")
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    text_model = tmp_path / "model.onnx"
    text_model.write_text("not a model")
    return [
        ("missing raster", [str(tmp_path / "missing.tif"), "--model", blob_model_path], "not found"),
        ("not a raster", [str(text), "--model", blob_model_path], "not a raster"),
        (
            "two bands",
            [make_raster("two.tif", np.zeros((2, 8, 8), np.uint8)), "--model", blob_model_path],
            "band count",
        ),
        (
            "complex",
            [make_raster("c.tif", np.zeros((1, 8, 8), np.complex64)), "--model", blob_model_path],
            "data type",
        ),
        ("band out of range", [good, "--bands", "4", "--model", blob_model_path], "no band 4"),
        ("text model", [good, "--model", str(text_model)], "not a valid ONNX model"),
        ("pickle model", [good, "--model", _torch_like_pickle(tmp_path / "m.pt")], "not a valid ONNX model"),
        ("missing model", [good, "--model", str(tmp_path / "none.onnx")], "not found"),
        ("cuda without gpu", [good, "--model", blob_model_path, "--device", "cuda"], "cuda"),
        ("wrong tile size", [good, "--model", blob_model_path, "--tile-size", "128"], "64 px patches"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_bad_input_is_one_line_nonzero_and_writes_nothing(
    tmp_path, capsys, make_raster, blob_model_path, case
):
    name, argv, message = _bad_inputs(tmp_path, make_raster, blob_model_path)[case]
    if name == "cuda without gpu":
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            pytest.skip("this machine has CUDA")
    out = tmp_path / "out.gpkg"
    before = set(os.listdir(tmp_path))
    code, stdout, err = _run(capsys, "detect", *argv, "-o", str(out))
    assert code == 2, name
    assert len(err.strip().splitlines()) == 1 and message in err and err.startswith("r2cnn detect: error:"), (
        err
    )
    assert set(os.listdir(tmp_path)) == before and not out.exists()


def test_existing_output_without_overwrite(tmp_path, capsys, make_raster, blob_model_path):
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"keep")
    code, _, err = _run(capsys, "detect", make_raster("s.tif"), "-o", str(out), "--model", blob_model_path)
    assert code == 2 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep"


def test_unwritable_output(tmp_path, capsys, make_raster, blob_model_path):
    code, _, err = _run(
        capsys,
        "detect",
        make_raster("s.tif"),
        "-o",
        str(tmp_path / "no" / "out.gpkg"),
        "--model",
        blob_model_path,
    )
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_bundled_model_missing_is_a_clear_error(tmp_path, capsys, make_raster, monkeypatch):
    monkeypatch.setattr("engine.runtime.bundled_model_path", lambda: tmp_path / "absent.onnx")
    code, _, err = _run(capsys, "detect", make_raster("s.tif"), "-o", str(tmp_path / "o.gpkg"))
    assert code == 2 and "bundled model is missing" in err


def test_every_option_of_the_issue_is_accepted():
    from engine.cli.main import build_parser

    args = build_parser().parse_args(
        [
            "detect",
            "a.tif",
            "-o",
            "o.gpkg",
            "--model",
            "m.onnx",
            "--score-threshold",
            "0.3",
            "--gate-threshold",
            "0.4",
            "--no-gate",
            "--device",
            "cpu",
            "--backend",
            "torch",
            "--tile-size",
            "640",
            "--overlap",
            "0.2",
            "--batch-size",
            "8",
            "--bands",
            "3,2,1",
            "--gsd",
            "0.8",
            "--overwrite",
            "--stats-json",
            "s.json",
            "--quiet",
        ]
    )
    assert args.bands == (3, 2, 1) and args.no_gate and args.gsd == 0.8 and args.backend == "torch"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["detect", "a.tif", "-o", "o.gpkg", "--overlap", "1.0"])


def test_cascade_switch_and_threads_reach_the_config():
    from engine.cli.detect_cmd import detect_config
    from engine.cli.main import build_parser

    default = detect_config(build_parser().parse_args(["detect", "a.tif", "-o", "o.gpkg"]))
    assert not default.cascade and default.extra == {}  # off until the shipped cascade is fitted (model card)
    argv = ["detect", "a.tif", "-o", "o.gpkg", "--cascade", "--threads", "1"]
    on = detect_config(build_parser().parse_args(argv))
    assert on.cascade and on.extra == {"threads": 1}
    assert not detect_config(build_parser().parse_args(["detect", "a.tif", "-o", "o.gpkg", "--no-cascade"])).cascade
    archive = build_parser().parse_args(["detect-archive", "a.tif", "-o", "out", "--cascade"])
    assert archive.cascade  # the archive shares the model options
    with pytest.raises(SystemExit):
        build_parser().parse_args(["detect", "a.tif", "-o", "o.gpkg", "--threads", "0"])
