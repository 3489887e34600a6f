"""INT8 static quantization: the contract, the metadata and the detections survive; bad inputs refused."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from engine.contract import CONFIG_KEY, GATE_OFF, IMAGES_INPUT, INPUT_NAMES, OUTPUT_NAMES, QUANTIZATION_KEY
from engine.errors import ModelError
from engine.export.quantize import QuantizeOptions, calibration_patches, quantize_model
from engine.runtime.onnx_runtime import load_onnx_detector

pytest.importorskip("onnxruntime.quantization")


def _patches(count: int = 8, size: int = 128) -> np.ndarray:
    """Textured grey patches with a few bright blobs: enough range for every activation."""
    rng = np.random.default_rng(0)
    patches = rng.integers(60, 160, (count, 1, size, size)).astype(np.uint8)
    for patch in patches:
        y, x = rng.integers(10, size - 20, 2)
        patch[:, y : y + 8, x : x + 12] = 240
    patches[0, 0, 0, :2] = (0, 255)  # the full 8-bit range: the calibrated input scale is then 1/std
    return np.repeat(patches, 3, axis=1)


@pytest.fixture(scope="module")
def quantized(tiny_models, tmp_path_factory) -> tuple[str, dict]:
    path = str(tmp_path_factory.mktemp("int8") / "tiny.int8.onnx")
    record = quantize_model(tiny_models.patch_onnx, path, QuantizeOptions(), patches_u8=_patches())
    return path, record


def test_contract_and_metadata_are_kept(tiny_models, quantized):
    path, record = quantized
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == list(INPUT_NAMES)
    assert [o.name for o in model.graph.output] == list(OUTPUT_NAMES)
    meta = {p.key: p.value for p in model.metadata_props}
    source = {p.key: p.value for p in onnx.load(tiny_models.patch_onnx).metadata_props}
    assert meta[CONFIG_KEY] == source[CONFIG_KEY] and meta["licence"] == "test licence"
    stored = json.loads(meta[QUANTIZATION_KEY])
    assert stored["quant_format"] == "qdq" and stored["per_channel"] is True
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)
    assert "/rpn/objectness/Conv" in record["excluded_nodes"] and record["quantized_convs"] > 30
    assert record["input_dtype"] == "uint8" and stored["input_dtype"] == "uint8"
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert not any(n.op_type in ("Sub", "Div") and IMAGES_INPUT in n.input for n in model.graph.node)


def test_uint8_input_is_exact(tiny_models, quantized, tmp_path):
    """Dropping the normalisation and the first QuantizeLinear changes no output (float or uint8 fed):
    compared with a float-input model whose calibration saw 0..255, i.e. the same input quantization."""
    path = str(tmp_path / "float_input.int8.onnx")
    record = quantize_model(tiny_models.patch_onnx, path, QuantizeOptions(uint8_input=False), patches_u8=_patches())
    assert record["input_dtype"] == "float32"
    images = _patches(3)
    ours = load_onnx_detector(quantized[0], device="cpu", min_score=0.0)
    theirs = load_onnx_detector(path, device="cpu", min_score=0.0)
    assert ours.input_dtype is np.uint8 and theirs.input_dtype is np.float32
    for feed in (images, images.astype(np.float32)):
        a, b = ours(feed, GATE_OFF), theirs(images, GATE_OFF)
        np.testing.assert_allclose(a.gate_scores, b.gate_scores, atol=1e-6)
        for x, y in zip(a.detections, b.detections, strict=True):
            np.testing.assert_allclose(x.scores, y.scores, atol=1e-6)


def test_int8_detections_follow_fp32(tiny_models, quantized):
    path, _ = quantized
    images = _patches(4)
    fp32 = load_onnx_detector(tiny_models.patch_onnx, device="cpu", min_score=0.0)(images, GATE_OFF)
    int8 = load_onnx_detector(path, device="cpu", min_score=0.0)(images, GATE_OFF)
    np.testing.assert_allclose(int8.gate_scores, fp32.gate_scores, atol=0.05)
    for ours, theirs in zip(int8.detections, fp32.detections, strict=True):
        assert len(ours.scores) > 0 and len(theirs.scores) > 0
        assert abs(float(ours.scores.max()) - float(theirs.scores.max())) < 0.1


def test_int8_model_runs_when_no_patch_passes_the_gate(quantized):
    """The calibration's static shapes must not survive: ORT would fold the RPN reshape to (0, -1)."""
    path, _ = quantized
    result = load_onnx_detector(path, device="cpu")(_patches(2), 2.0)
    assert all(len(d.scores) == 0 for d in result.detections)


def test_window_graph_quantizes_too(tiny_models, tmp_path):
    path = str(tmp_path / "tiny.window.int8.onnx")
    quantize_model(tiny_models.window_onnx, path, QuantizeOptions(), patches_u8=_patches(4))
    detector = load_onnx_detector(path, device="cpu")
    window = np.full((1, 3, 128 + 96, 128 + 96), 100, np.uint8)
    offsets = np.array([0, 96])
    assert len(detector.run_windows(window, offsets, offsets, GATE_OFF).gate_scores) == 4
    assert json.loads(detector.metadata[QUANTIZATION_KEY])["quant_format"] == "qdq"


def test_qoperator_format(tiny_models, tmp_path):
    path = str(tmp_path / "tiny.qop.onnx")
    quantize_model(tiny_models.patch_onnx, path, QuantizeOptions(quant_format="qoperator"), patches_u8=_patches(4))
    assert any(n.op_type == "QLinearConv" for n in onnx.load(path).graph.node)
    assert len(load_onnx_detector(path, device="cpu")(_patches(2), GATE_OFF).gate_scores) == 2


def test_bad_sources_are_refused(tmp_path, quantized):
    with pytest.raises(ModelError, match="not found"):
        quantize_model(str(tmp_path / "none.onnx"), str(tmp_path / "out.onnx"), patches_u8=_patches(1))
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        quantize_model(str(tmp_path / "text.onnx"), str(tmp_path / "out.onnx"), patches_u8=_patches(1))
    with pytest.raises(ModelError, match="already quantized"):
        quantize_model(quantized[0], str(tmp_path / "out.onnx"), patches_u8=_patches(1))
    assert not (tmp_path / "out.onnx").exists()


def test_calibration_patches_without_a_dataset_are_generated(monkeypatch, tmp_path):
    monkeypatch.setattr("engine.datasets.airbus.DEFAULT_AIRBUS_ROOT", tmp_path / "absent")
    patches = calibration_patches(3, 128, 2.0, 0.25, seed=1, airbus_root=None)
    assert patches.shape == (3, 3, 128, 128) and patches.dtype == np.uint8
    assert patches.std() > 1.0  # real texture, not a constant


def test_calibration_patches_come_from_the_training_split(shared_dir):
    root = shared_dir / "datasets" / "airbus-aircraft"
    patches = calibration_patches(4, 128, 2.0, 0.25, seed=0, airbus_root=str(root))
    assert patches.shape == (4, 3, 128, 128)
    assert not np.array_equal(patches[0, 0], patches[0, 1])  # colour Airbus crops, not grey generated ones


def test_calibration_crops_past_an_image_edge_carry_the_models_fill_value(shared_dir):
    root = shared_dir / "datasets" / "airbus-aircraft"
    patches = calibration_patches(2, 4096, 2.0, 0.0, seed=0, airbus_root=str(root), fill_value=77.0)
    assert patches.shape == (2, 3, 4096, 4096)
    assert np.all(patches[:, :, -1, :] == 77) and np.all(patches[:, :, :, -1] == 77)  # the images are smaller
