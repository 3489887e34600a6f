import numpy as np
import onnx
import pytest
import torch

from engine.config import ModelConfig
from engine.export.onnx_export import CONFIG_KEY, export_onnx
from engine.network.r2cnn import build_r2cnn
from engine.runtime.onnx_runtime import OnnxDetector
from engine.runtime.torch_runtime import TorchDetector

CONFIG = ModelConfig(patch_size=128, rpn_pre_nms_top_n=200, rpn_post_nms_top_n=40, score_threshold=0.0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(3)
    model = build_r2cnn(CONFIG).eval()
    # Spread the objectness so top-k has no ties (random init leaves near-equal scores).
    torch.nn.init.normal_(model.rpn.objectness.weight, std=1.0)
    torch.nn.init.normal_(model.rfcn.cls_maps.weight, std=0.5)
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(model, str(path), CONFIG, {"licence": "test"})
    return model, path


def test_metadata_embedded(exported):
    _, path = exported
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert ModelConfig.from_json(meta[CONFIG_KEY]) == CONFIG
    assert meta["licence"] == "test"


def test_onnx_runtime_matches_torch(exported):
    model, path = exported
    rng = np.random.default_rng(0)
    images = (rng.random((3, 3, 128, 128)) * 255).astype(np.float32)
    images[1, :, 40:60, 50:70] = 250.0
    reference = TorchDetector(model, min_score=0.0)(images, -1.0)
    result = OnnxDetector(str(path), device="cpu", min_score=0.0)(images, -1.0)
    np.testing.assert_allclose(result.gate_scores, reference.gate_scores, atol=1e-4)
    for ours, theirs in zip(result.detections, reference.detections, strict=True):
        assert len(ours.scores) == len(theirs.scores) > 0
        np.testing.assert_allclose(ours.scores, theirs.scores, atol=1e-3)
        np.testing.assert_allclose(ours.boxes_patch_px, theirs.boxes_patch_px, atol=1e-2)


def test_gate_skips_detector_in_onnx(exported):
    _, path = exported
    result = OnnxDetector(str(path), device="cpu", min_score=0.0)(np.zeros((2, 3, 128, 128), np.float32), 2.0)
    assert all(len(d.scores) == 0 for d in result.detections)
