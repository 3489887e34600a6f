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
