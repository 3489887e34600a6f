"""`r2cnn train --data RASTER=VECTOR --init ...`: a short fine-tuning run lifts a deliberately weakened shipped
model on a held-out part of its data, reports both models there, and exports a calibrated ONNX model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli.finetune_run import MIN_TRAINING_SHARE, _training_budget
from engine.cli.main import main

SHIPPED = Path(__file__).resolve().parents[3] / "resources" / "models" / "r2cnn_aircraft.pt"


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Two generated 12-bit airport scenes (UTM 31N) with their aircraft as polygons in EPSG:4326, and the
    shipped weights with noise in the R-FCN head (the weakened model)."""
    torch = pytest.importorskip("torch")
    from engine.network.checkpoint import load_checkpoint_model, save_checkpoint
    from engine.synthetic.scene_generator import render_scene
    from tests.engine.labelled_scenes import write_polygons
    from tests.engine.pipeline.conftest import write_tif

    folder = tmp_path_factory.mktemp("finetune")
    pairs = []
    for index, seed in enumerate((11, 13)):
        scene = render_scene(np.random.default_rng(seed), 384, 384, n_airports=1, nodata_margin=False)
        raster = write_tif(folder / f"s{index}.tif", (scene.image_u16.astype(np.uint32) * 4).astype(np.uint16),
                           crs="EPSG:32631")
        pairs.append(f"{raster}={write_polygons(folder / f's{index}.gpkg', scene.boxes_px, epsg=4326)}")
    torch.manual_seed(0)
    model = load_checkpoint_model(SHIPPED)
    with torch.no_grad():
        for parameter in model.rfcn.parameters():
            parameter.add_(3.0 * parameter.std() * torch.randn_like(parameter))
    save_checkpoint(folder / "weak.pt", model)
    return folder, pairs


@pytest.mark.slow
def test_fine_tuning_lifts_a_weakened_model_on_its_held_out_part(labelled, capsys):
    from engine.runtime import load_detector

    folder, pairs = labelled
    out = folder / "run"
    args = ["train", "--data", *pairs, "--init", str(folder / "weak.pt"), "--steps", "12", "--crop", "128",
            "--threads", "1", "--lr", "1e-3", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "hold-out: 1 block(s)" in text and "anchors (keep)" in text and "--init weak.pt" in text
    rows = json.loads((out / "comparison.json").read_text())["rows"]
    init, tuned = rows
    assert tuned["ap50"] > init["ap50"] + 0.2, rows
    split = json.loads((out / "split.json").read_text())
    assert len(split["val"]) == 1 and len(split["train"]) == 1 and split["val"][0]["raster"] != split["train"][0][
        "raster"]
    detector = load_detector(str(out / "model.onnx"), device="cpu")  # what the plugin's model parameter takes
    assert detector.config.score_threshold == tuned["score_threshold"]
    assert detector.config.anchor_sizes_px == load_detector(None, precision="fp32").config.anchor_sizes_px


def test_the_budget_leaves_time_for_the_evaluations(capsys):
    assert _training_budget(None, 10.0, 5.0) is None
    assert _training_budget(10.0, 30.0, 15.0) == pytest.approx(600 - 30 - 4 * 15)
    assert _training_budget(1.0, 30.0, 60.0) == pytest.approx(MIN_TRAINING_SHARE * 60)
    assert "min of training" in capsys.readouterr().out


def test_fine_tuning_input_errors_are_one_line(labelled, tmp_path, capsys):
    folder, pairs = labelled
    assert main(["train", "--data", pairs[0], "--init", str(folder / "weak.pt"), "--out", str(tmp_path / "r")]) == 2
    assert "at least two blocks" in capsys.readouterr().err
    assert main(["train", "--data", *pairs, "--anchors", "keep", "--out", str(tmp_path / "s")]) == 2
    assert "--anchors keep needs --init" in capsys.readouterr().err
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "split.json").write_text('{"train": [], "val": []}')  # a run folder of other data
    assert main(["train", "--data", *pairs, "--out", str(tmp_path / "t")]) == 2
    assert "another hold-out split" in capsys.readouterr().err
