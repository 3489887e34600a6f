"""`r2cnn evaluate` on a GeoTIFF + GeoPackage (and COCO): one command gives the tables, the TP / FP / FN layers,
the PNG figures and the HTML report; an existing layer is scored without a model; bad input is one line."""

from __future__ import annotations

import json

import pytest
from osgeo import ogr

import engine.runtime
from engine.cli.main import main
from engine.config import ModelConfig
from tests.engine.blob_model import write_blob_model
from tests.engine.labelled_scenes import BLOBS_PX, blob_box_px, write_blob_raster, write_coco, write_polygons

R = [blob_box_px(*b) for b in BLOBS_PX]
UNDETECTABLE = blob_box_px(84, 100)  # a reference with no blob under it


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("model") / "blob.onnx")
    write_blob_model(path, patch_size=64, cell_px=16, config=ModelConfig(overlap=0.25, score_threshold=0.5))
    return path


@pytest.fixture
def scene(tmp_path):
    """Five blobs; references on the first four plus one over bare ground, in EPSG:4326, two classes."""
    raster = write_blob_raster(tmp_path / "scene.tif")
    refs = write_polygons(tmp_path / "refs.gpkg", R[:4] + [UNDETECTABLE], epsg=4326,
                          classes=["plane"] * 4 + ["heli"])
    return raster, refs


def test_one_command_gives_tables_layers_pictures_and_report(scene, model, tmp_path, capsys):
    raster, refs = scene
    report = tmp_path / "report"
    code = main(["evaluate", "--data", f"{raster}={refs}", "--model", model, "--device", "cpu", "-q",
                 "--report-dir", str(report), "--json", str(tmp_path / "eval.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "(TP 4, FP 1, FN 1)" in out and "reprojected from EPSG:4326" in out and "gate at 0.50" in out
    dataset = ogr.Open(str(report / "evaluation.gpkg"))
    assert [dataset.GetLayerByName(n).GetFeatureCount() for n in ("true_positive", "false_positive",
                                                                  "false_negative")] == [4, 1, 1]
    assert next(iter(dataset.GetLayerByName("false_negative")))["feature_id"] == 5  # the heli over bare ground
    dataset = None
    assert (report / "pr_curve.png").stat().st_size > 1000 and "<img" in (report / "report.html").read_text()
    payload = json.loads((tmp_path / "eval.json").read_text())
    assert payload["headline"]["recall"] == pytest.approx(0.8) and payload["n_patches"] > 0

    filtered = main(["evaluate", "--data", f"{raster}={refs}", "--model", model, "--device", "cpu", "-q",
                     "--class-field", "cls", "--class-value", "plane"])
    assert filtered == 0 and "(TP 4, FP 1, FN 0)" in capsys.readouterr().out


def test_an_existing_layer_is_scored_without_the_model(scene, tmp_path, monkeypatch, capsys):
    raster, refs = scene
    detections = write_polygons(tmp_path / "found.gpkg", R, epsg=32631, scores=[0.9, 0.8, 0.7, 0.6, 0.2])

    def no_model(*args, **kwargs):
        raise AssertionError("scoring a layer must not load a model")

    monkeypatch.setattr(engine.runtime, "load_detector", no_model)
    assert main(["evaluate", "--data", f"{raster}={refs}", "--detections", detections, "--score-threshold",
                 "0.5", "--report-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "no model run" in out and "(TP 4, FP 0, FN 1)" in out  # the 0.2 one is below the threshold
    assert (tmp_path / "r" / "evaluation.gpkg").is_file()


def test_coco_images_without_georeference(model, tmp_path, capsys):
    write_blob_raster(tmp_path / "a.png", crs=None)
    coco = write_coco(tmp_path / "labels.json", [("a.png", (192, 128), [(box, "plane") for box in R[:3]])])
    assert main(["evaluate", "--coco", coco, "--image-gsd", "2", "--model", model, "--device", "cpu", "-q"]) == 0
    assert "(TP 3, FP 2, FN 0)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--class-field", "kind"], "has no field 'kind' (fields: cls, score)"),
        (["--class-value", "plane"], "--class-value needs --class-field"),
        (["--iou", "0"], "--iou must be in (0, 1]"),
    ],
)
def test_bad_input_is_one_line(scene, model, extra, message, capsys):
    raster, refs = scene
    assert main(["evaluate", "--data", f"{raster}={refs}", "--model", model, "-q", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_inputs_and_existing_outputs_refused_before_any_work(scene, model, tmp_path, capsys):
    raster, refs = scene
    assert main(["evaluate", "--data", f"{raster}={tmp_path / 'none.gpkg'}", "--model", model]) == 2
    assert "reference layer not found" in capsys.readouterr().err
    assert main(["evaluate", "--data", "scene.tif", "--model", model]) == 2
    assert "expected RASTER=VECTOR" in capsys.readouterr().err
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.html").write_text("mine")
    assert main(["evaluate", "--data", f"{raster}={refs}", "--model", model, "--report-dir",
                 str(tmp_path / "r")]) == 2
    assert "report.html exists (use --overwrite" in capsys.readouterr().err
    assert (tmp_path / "r" / "report.html").read_text() == "mine" and len(list((tmp_path / "r").iterdir())) == 1
