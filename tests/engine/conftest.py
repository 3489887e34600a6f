"""A small random-weight R2CNN (128 px patches, 25 % overlap: a 96 px stride, a multiple of 16) exported
as the per-patch and the window graph, with its checkpoint: for export, runtime and pipeline tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import ModelConfig

TINY_CONFIG = ModelConfig(
    patch_size=128,
    overlap=0.25,
    rpn_pre_nms_top_n=200,
    rpn_post_nms_top_n=40,
    score_threshold=0.3,
    gate_threshold=0.5,
)


@dataclass(frozen=True)
class TinyModels:
    model: object  # the eval-mode torch R2CNN
    patch_onnx: str
    window_onnx: str
    checkpoint: str


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> TinyModels:
    torch = pytest.importorskip("torch")
    from engine.export.onnx_export import export_onnx
    from engine.export.window_export import export_window_onnx
    from engine.network.checkpoint import save_checkpoint
    from engine.network.r2cnn import build_r2cnn

    torch.manual_seed(7)
    model = build_r2cnn(TINY_CONFIG).eval()
    with torch.no_grad():  # trained-looking batch norms: fresh ones fold into identical zero biases
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
    torch.nn.init.normal_(model.rpn.objectness.weight, std=1.0)  # spread scores: no top-k ties
    torch.nn.init.normal_(model.rfcn.cls_maps.weight, std=0.5)
    torch.nn.init.normal_(model.classifier.logits.weight, std=0.5)  # gate scores away from 0.5
    folder = Path(tmp_path_factory.mktemp("tiny_models"))
    patch_onnx, window_onnx = str(folder / "tiny.onnx"), str(folder / "tiny.window.onnx")
    export_onnx(model, patch_onnx, TINY_CONFIG, {"licence": "test licence"})
    export_window_onnx(model, window_onnx, TINY_CONFIG, {"licence": "test licence"})
    checkpoint = folder / "tiny.pt"
    save_checkpoint(checkpoint, model)
    return TinyModels(model, patch_onnx, window_onnx, str(checkpoint))
