import torch

from engine.config import ModelConfig
from engine.network.r2cnn import build_r2cnn
from engine.network.tinynet import TinyNet


def test_tinynet_strides_and_channels():
    c4, c5 = TinyNet()(torch.zeros(1, 3, 128, 192))
    assert c4.shape == (1, 48, 16, 24)  # stride 8
    assert c5.shape == (1, 72, 8, 12)  # stride 16


def test_tinynet_is_small():
    assert sum(p.numel() for p in TinyNet().parameters()) < 1_000_000


def test_inference_contract_shapes_and_gate():
    config = ModelConfig(rpn_pre_nms_top_n=200, rpn_post_nms_top_n=50)
    model = build_r2cnn(config).eval()
    images = torch.rand(3, 3, 128, 128) * 255
    with torch.no_grad():
        gate, passed, boxes, scores = model(images, torch.tensor(-1.0))
        assert gate.shape == (3,) and ((gate >= 0) & (gate <= 1)).all()
        assert passed.tolist() == [0, 1, 2]
        assert boxes.shape == (3, 50, 4) and scores.shape == (3, 50)
        assert (boxes >= 0).all() and (boxes <= 128).all()
        _, passed, boxes, scores = model(images, torch.tensor(2.0))  # nothing passes: detector skipped
        assert passed.numel() == 0 and boxes.shape == (0, 50, 4)


def test_anchor_stride_is_8():
    model = build_r2cnn(ModelConfig())
    anchors = model.anchors(torch.zeros(1, 96, 4, 5))
    assert anchors.shape == (4 * 5 * len(ModelConfig().anchor_sizes_px), 4)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    assert sorted(set(centres[:, 0].tolist())) == [4.0, 12.0, 20.0, 28.0, 36.0]
