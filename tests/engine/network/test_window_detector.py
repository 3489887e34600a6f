"""The window graph in torch: a 1 x 1 window is R2CNN.forward exactly; larger windows cut the right
features and run the same per-patch steps."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.config import ModelConfig  # noqa: E402
from engine.network.r2cnn import build_r2cnn, decode_detections  # noqa: E402
from engine.network.window_detector import WindowDetector, cut_patches, cut_selected  # noqa: E402

CONFIG = ModelConfig(patch_size=64, rpn_pre_nms_top_n=100, rpn_post_nms_top_n=20)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = build_r2cnn(CONFIG).eval()
    torch.nn.init.normal_(net.rpn.objectness.weight, std=1.0)
    torch.nn.init.normal_(net.classifier.logits.weight, std=2.0)
    return net


def test_one_patch_window_is_the_per_patch_graph(model):
    images = torch.rand(3, 3, 64, 64) * 255
    zero = torch.zeros(1, dtype=torch.int64)
    with torch.no_grad():
        ours = WindowDetector(model)(images, zero, zero, torch.tensor(-1.0))
        theirs = model(images, torch.tensor(-1.0))
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_cut_patches_and_cut_selected_slice_the_right_squares():
    features = torch.arange(2 * 3 * 10 * 12, dtype=torch.float32).reshape(2, 3, 10, 12)
    rows, cols = torch.tensor([0, 4]), torch.tensor([0, 3, 6])
    cut = cut_patches(features, rows, cols, 5)
    assert cut.shape == (2 * 2 * 3, 3, 5, 5)
    expected = [features[b, :, r : r + 5, c : c + 5] for b in range(2) for r in (0, 4) for c in (0, 3, 6)]
    torch.testing.assert_close(cut, torch.stack(expected))
    chosen = torch.tensor([1, 5, 10])
    torch.testing.assert_close(cut_selected(features, rows, cols, 5, chosen), cut[chosen])
    assert cut_selected(features, rows, cols, 5, torch.zeros(0, dtype=torch.int64)).shape == (0, 3, 5, 5)


def test_window_runs_the_per_patch_steps_on_cut_features(model):
    torch.manual_seed(1)
    windows = torch.rand(2, 3, 64 + 32, 64 + 48) * 255
    rows, cols = torch.tensor([0, 32]), torch.tensor([0, 16, 48])
    with torch.no_grad():
        stride8, stride16 = model.tiny_net((windows - model.mean) / model.std)
        per16 = model.attention(cut_patches(stride16, rows // 16, cols // 16, 4))
        expected_gate = model.classifier(per16).softmax(dim=1)[:, 1]
        threshold = float(expected_gate.median())  # about half the patches pass
        expected_passed = torch.nonzero(expected_gate >= threshold).reshape(-1)
        gate, passed, boxes, scores = WindowDetector(model)(windows, rows, cols, torch.tensor(threshold))
        per8 = cut_patches(stride8, rows // 8, cols // 8, 8)[expected_passed]
        detections = model.detect(per8, per16[expected_passed], (64, 64))
        expected_boxes, expected_scores = decode_detections(detections, (64, 64))
    assert gate.shape == (12,) and 0 < len(passed) < 12  # some patches pass the gate, some do not
    torch.testing.assert_close(gate, expected_gate)
    assert passed.tolist() == expected_passed.tolist()
    torch.testing.assert_close(boxes, expected_boxes)
    torch.testing.assert_close(scores, expected_scores)


def test_patch_size_must_be_a_multiple_of_16():
    with pytest.raises(ValueError, match="divisible by 16"):
        WindowDetector(build_r2cnn(ModelConfig(patch_size=72)))



def test_the_window_graph_runs_r2cnns_own_steps(model, monkeypatch):
    """Normalisation + trunk, attention + classifier and the gate decision come from R2CNN, not copies."""
    import engine.network.window_detector as window_module

    calls = []
    for name in ("trunk", "attend_and_classify"):
        step = getattr(model, name)
        monkeypatch.setattr(model, name, lambda *a, _step=step, _name=name: calls.append(_name) or _step(*a))
    gate = window_module.gate_decision
    monkeypatch.setattr(window_module, "gate_decision", lambda *a: calls.append("gate") or gate(*a))
    offsets = torch.tensor([0, 16])
    with torch.no_grad():
        WindowDetector(model)(torch.rand(1, 3, 80, 80) * 255, offsets, offsets, torch.tensor(0.0))
    assert calls == ["trunk", "attend_and_classify", "gate"]
