"""ONNX Runtime and torch give the same whole-scene detections (same weights, through detect_raster)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.config import DetectConfig, ModelConfig  # noqa: E402
from engine.ops.box_arrays import pairwise_iou  # noqa: E402
from engine.pipeline.detect import detect_raster  # noqa: E402
from engine.runtime.onnx_runtime import OnnxDetector  # noqa: E402

CONFIG = ModelConfig(patch_size=128, rpn_pre_nms_top_n=200, rpn_post_nms_top_n=40, score_threshold=0.3)


@pytest.fixture(scope="module")
def detectors(tmp_path_factory):
    from engine.export.onnx_export import export_onnx
    from engine.network.r2cnn import build_r2cnn
    from engine.runtime.torch_runtime import TorchDetector

    torch.manual_seed(5)
    model = build_r2cnn(CONFIG).eval()
    torch.nn.init.normal_(model.rpn.objectness.weight, std=1.0)  # spread scores: no top-k ties
    torch.nn.init.normal_(model.rfcn.cls_maps.weight, std=0.5)
    path = str(tmp_path_factory.mktemp("parity") / "model.onnx")
    export_onnx(model, path, CONFIG, {})
    return OnnxDetector(path, device="cpu", threads=1), TorchDetector(model, device="cpu")


def test_whole_scene_detections_agree(tmp_path, detectors):
    from engine.synthetic.scene_generator import write_scene_geotiff

    onnx_detector, torch_detector = detectors
    scene = write_scene_geotiff(tmp_path / "scene.tif", 300, 340, seed=3, n_airports=1).path
    config = DetectConfig(use_gate=False)
    ours = detect_raster(scene, config, detector=onnx_detector)
    theirs = detect_raster(scene, config, detector=torch_detector)
    assert ours.stats.patches_total == theirs.stats.patches_total == 3 * 4
    assert len(theirs.scores) > 5
    # Every box of one runtime has a twin in the other, unless its score sits at the threshold.
    for a, b in ((ours, theirs), (theirs, ours)):
        iou = pairwise_iou(a.boxes_raster_px, b.boxes_raster_px)
        for row, score in enumerate(a.scores):
            twin = int(np.argmax(iou[row])) if iou.shape[1] else -1
            if twin < 0 or iou[row, twin] < 0.99:
                assert abs(score - CONFIG.score_threshold) < 1e-3, f"unmatched box scoring {score}"
                continue
            assert abs(score - b.scores[twin]) < 1e-3
    np.testing.assert_allclose(np.sort(ours.patch_scores), np.sort(theirs.patch_scores), atol=1e-4)
