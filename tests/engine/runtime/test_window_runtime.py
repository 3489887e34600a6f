"""OnnxWindowDetector: chosen from the metadata, identical to the per-patch graph on single patches,
the same as the torch window graph on larger windows; bad grids refused."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from engine.errors import ModelError
from engine.runtime import load_detector
from engine.runtime.onnx_runtime import OnnxDetector
from engine.runtime.window_runtime import OnnxWindowDetector


def _images(count: int, height: int = 128, width: int = 128) -> np.ndarray:
    rng = np.random.default_rng(3)
    images = rng.integers(70, 150, (count, 1, height, width)).astype(np.uint8)
    images[:, :, 30:38, 40:52] = 245
    return np.repeat(images, 3, axis=1)


def test_the_graph_kind_picks_the_runtime(tiny_models):
    assert isinstance(load_detector(tiny_models.window_onnx, device="cpu", threads=1), OnnxWindowDetector)
    assert isinstance(load_detector(tiny_models.patch_onnx, device="cpu", threads=1), OnnxDetector)


def test_single_patches_match_the_per_patch_graph(tiny_models):
    window = load_detector(tiny_models.window_onnx, device="cpu", min_score=0.0, threads=1)
    patch = load_detector(tiny_models.patch_onnx, device="cpu", min_score=0.0, threads=1)
    images = _images(3)
    ours, theirs = window(images, -1.0), patch(images, -1.0)
    np.testing.assert_allclose(ours.gate_scores, theirs.gate_scores, atol=1e-5)
    for a, b in zip(ours.detections, theirs.detections, strict=True):
        assert len(a.scores) == len(b.scores) > 0
        np.testing.assert_allclose(a.boxes_patch_px, b.boxes_patch_px, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)


def test_windows_match_the_torch_window_graph(tiny_models):
    torch = pytest.importorskip("torch")
    from engine.network.window_detector import WindowDetector

    windows = _images(2, 128 + 96, 128 + 192)
    rows, cols = np.array([0, 96]), np.array([0, 96, 192])
    detector = load_detector(tiny_models.window_onnx, device="cpu", min_score=0.0, threads=1)
    result = detector.run_windows(windows, rows, cols, 0.5)
    with torch.no_grad():
        inputs = (torch.as_tensor(windows, dtype=torch.float32), torch.as_tensor(rows), torch.as_tensor(cols))
        gate, passed, _, _ = WindowDetector(tiny_models.model)(*inputs, torch.tensor(0.5))
    assert len(result.gate_scores) == 12
    np.testing.assert_allclose(result.gate_scores, gate.numpy(), atol=1e-5)
    passed_here = [i for i, d in enumerate(result.detections) if len(d.scores)]
    assert set(passed_here) <= set(passed.tolist())


def test_bad_grids_are_refused(tiny_models):
    detector = load_detector(tiny_models.window_onnx, device="cpu", threads=1)
    window = _images(1, 128 + 96, 128 + 96)
    with pytest.raises(ValueError, match="multiples of 16"):
        detector.run_windows(window, np.array([0, 90]), np.array([0]), 0.5)
    with pytest.raises(ValueError, match="inside"):
        detector.run_windows(window, np.array([0, 112]), np.array([0]), 0.5)
    with pytest.raises(ValueError, match="at least one"):
        detector.run_windows(window, np.array([], dtype=np.int64), np.array([0]), 0.5)
    with pytest.raises(ValueError, match="128 px patches"):
        detector(_images(1, 96, 96), 0.5)


def test_a_window_mark_on_a_per_patch_graph_is_refused(tiny_models, tmp_path):
    model = onnx.load(tiny_models.patch_onnx)
    model.metadata_props.add(key="r2cnn_graph", value="window")
    path = tmp_path / "liar.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="window graph but lacks windows"):
        load_detector(str(path), device="cpu")

