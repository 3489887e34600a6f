"""`r2cnn evaluate` on real Airbus images (../shared): an oracle detector, and the blob ONNX model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine.runtime
from engine.cli.main import main
from engine.config import ModelConfig
from engine.datasets.airbus import read_annotations, split_ids
from engine.runtime.types import BatchResult, PatchDetections


@pytest.fixture
def airbus_root(shared_dir):
    return shared_dir / "datasets" / "airbus-aircraft"


class Oracle:
    """Returns the true boxes of the images in split order (one 640 px patch per image at 2 m)."""

    def __init__(self, boxes_per_image):
        self.config = ModelConfig()
        self.device = "cpu"
        self.queue = list(boxes_per_image)

    def __call__(self, images_u8, gate_threshold):
        detections = []
        for _ in images_u8:
            boxes = self.queue.pop(0)
            detections.append(PatchDetections(boxes.astype(np.float32), np.full(len(boxes), 0.9, np.float32)))
        return BatchResult(np.full(len(images_u8), 0.99, np.float32), detections)


def test_evaluate_with_an_oracle_scores_perfectly(airbus_root, tmp_path, monkeypatch, capsys):
    annotations = read_annotations(airbus_root)
    ids = split_ids("val", airbus_root)[:3]
    calls = {}

    def fake_load_detector(model_path, backend="onnx", device="auto", min_score=None, **kwargs):
        calls.update(model_path=model_path, backend=backend, min_score=min_score)
        return Oracle([annotations[i][0] / 4.0 for i in ids])

    monkeypatch.setattr(engine.runtime, "load_detector", fake_load_detector)
    json_path = tmp_path / "report.json"
    code = main(["evaluate", "--dataset", str(airbus_root), "--limit", "3", "--json", str(json_path), "-q"])
    assert code == 0
    assert calls == {"model_path": None, "backend": "onnx", "min_score": 0.05}
    out = capsys.readouterr().out
    assert "VOC AP50" in out and "very_tiny" in out
    report = json.loads(json_path.read_text())
    assert report["image_ids"] == ids and report["n_images"] == 3 and report["n_patches"] == 3
    assert report["detection"]["ap50"] == pytest.approx(1.0)
    assert report["detection"]["n_gt"] == sum(len(annotations[i][0]) for i in ids)
    assert report["gate"]["recall"] == 1.0 and report["coco"]["ap50"]["all"] == pytest.approx(1.0)


def test_evaluate_runs_a_real_onnx_model(airbus_root, blob_model_path, capsys):
    assert (
        main(
            [
                "evaluate",
                "--dataset",
                str(airbus_root),
                "--model",
                blob_model_path,
                "--limit",
                "1",
                "--no-gate",
                "-q",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 images" in out and "gate off" in out


def test_evaluate_errors_are_one_line(airbus_root, tmp_path, capsys):
    assert main(["evaluate", "--dataset", str(tmp_path / "none")]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    assert main(["evaluate", "--dataset", str(airbus_root), "--limit", "0"]) == 2
    assert "no images" in capsys.readouterr().err
    assert main(["evaluate", "--dataset", str(airbus_root), "--model", str(tmp_path / "missing.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_object_scale_resamples_the_images(airbus_root, monkeypatch, capsys):
    """With aircraft 25 % smaller, the oracle must answer with boxes 25 % smaller to score 1."""
    annotations = read_annotations(airbus_root)
    ids = split_ids("val", airbus_root)[:2]
    scale = 0.75

    def oracle(boxes_divisor):
        return lambda *args, **kwargs: Oracle([annotations[i][0] / boxes_divisor for i in ids])

    monkeypatch.setattr(engine.runtime, "load_detector", oracle(4.0 / scale))
    assert main(["evaluate", "--dataset", str(airbus_root), "--limit", "2", "--object-scale", "0.75", "-q"]) == 0
    out = capsys.readouterr().out
    assert "aircraft x0.75 their size" in out and "VOC AP50 (IoU 0.5, scores >= 0.05): 1.000" in out
    monkeypatch.setattr(engine.runtime, "load_detector", oracle(4.0))  # true-size boxes on shrunken images
    assert main(["evaluate", "--dataset", str(airbus_root), "--limit", "2", "--object-scale", "0.75", "-q"]) == 0
    assert "scores >= 0.05): 1.000" not in capsys.readouterr().out


def test_whole_scene_table_through_detect(tmp_path, capsys):
    from engine.synthetic.validation_scenes import build_scene
    from tests.engine.synthetic.test_validation_scenes import _airports

    build_scene(tmp_path / "scene.tif", _airports(2), seed=3, bits=10, size_px=(1400, 1400), clouds=1, workers=1)
    report = tmp_path / "scenes.json"
    assert main(["evaluate", "--split", "none", "--scenes", str(tmp_path), "--json", str(report), "-q"]) == 0
    out = capsys.readouterr().out
    assert "whole scenes" in out and "scene.tif | 6 |" in out
    rows = json.loads(report.read_text())["scenes"]
    assert rows[0]["true_count"] == 6 and rows[-1]["scene"] == "all" and 0.0 <= rows[-1]["recall"] <= 1.0


def test_scenes_without_truth_are_one_clear_error(tmp_path, capsys):
    (tmp_path / "x.tif").write_bytes(b"")
    assert main(["evaluate", "--split", "none", "--scenes", str(tmp_path / "x.tif")]) == 2
    assert "no truth file" in capsys.readouterr().err
