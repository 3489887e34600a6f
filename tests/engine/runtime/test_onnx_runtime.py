"""OnnxDetector on a tiny graph that obeys the model contract; every way a model file can be wrong."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from engine.config import ModelConfig
from engine.errors import ModelError
from engine.runtime import bundled_model_path, load_detector
from engine.runtime.onnx_runtime import OnnxDetector, choose_providers
from tests.engine.blob_model import write_blob_model
from tests.engine.hostile_files import RunsCode, write_torch_like_pickle


@pytest.fixture(scope="module")
def blob_model(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("model") / "blob.onnx")
    write_blob_model(
        path, patch_size=64, cell_px=16, config=ModelConfig(score_threshold=0.5, gate_threshold=0.6)
    )
    return path


def _patches() -> np.ndarray:
    images = np.full((3, 3, 64, 64), 100, np.uint8)
    images[0, :, 5:10, 20:28] = 255
    images[2, :, 40:44, 44:52] = 250  # spans two 16 px cells: the blob model gives two boxes
    return images


def test_contract_graph_runs_with_config_from_metadata(blob_model):
    detector = OnnxDetector(blob_model, device="cpu", threads=1)
    assert detector.device == "cpu" and detector.providers == ("CPUExecutionProvider",)
    assert detector.config.patch_size == 64 and detector.config.gate_threshold == 0.6
    assert detector.patch_size == 64 and detector.min_score == 0.5
    result = detector(_patches(), gate_threshold=0.6)
    assert result.gate_scores[0] > 0.99 and result.gate_scores[1] < 0.01
    assert result.detections[0].boxes_patch_px.tolist() == [[20, 5, 28, 10]]
    assert len(result.detections[1].scores) == 0
    assert sorted(result.detections[2].boxes_patch_px.tolist()) == [[44, 40, 48, 44], [48, 40, 52, 44]]


def test_gate_threshold_selects_the_detected_patches(blob_model):
    detector = OnnxDetector(blob_model, device="cpu", threads=1)
    images = _patches()
    images[1, :, 0, 0] = 190  # gate score ~0.73, no blob above 200
    assert len(detector(images, 0.9).detections[1].scores) == 0
    no_gate = detector(images, -1.0)
    assert no_gate.gate_scores[1] == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-4)


def test_min_score_is_applied(blob_model):
    strict = OnnxDetector(blob_model, device="cpu", min_score=0.95, threads=1)
    assert all(len(d.scores) == 0 for d in strict(_patches(), -1.0).detections)


def test_wrong_patch_shape_is_refused(blob_model):
    with pytest.raises(ValueError, match="64 px"):
        OnnxDetector(blob_model, device="cpu", threads=1)(np.zeros((1, 3, 32, 32), np.uint8), 0.5)


def test_a_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "executed"
    model = write_torch_like_pickle(tmp_path / "model.onnx", RunsCode(marker))
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        OnnxDetector(str(model), device="cpu")
    assert not marker.exists()


def test_text_missing_and_foreign_onnx_files_are_refused(tmp_path, blob_model):
    text = tmp_path / "m.onnx"
    text.write_text("hello")
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        OnnxDetector(str(text), device="cpu")
    with pytest.raises(ModelError, match="not found"):
        OnnxDetector(str(tmp_path / "none.onnx"), device="cpu")
    foreign = onnx.load(blob_model)
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ModelError, match="not an r2cnn one"):
        OnnxDetector(str(tmp_path / "foreign.onnx"), device="cpu")


def test_a_graph_breaking_the_contract_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["gate_scores"])],
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("gate_scores", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.metadata_props.add(key="r2cnn_config", value=ModelConfig().to_json())
    onnx.save(model, str(tmp_path / "bad.onnx"))
    with pytest.raises(ModelError, match="contract.*gate_threshold"):
        OnnxDetector(str(tmp_path / "bad.onnx"), device="cpu")


def test_provider_choice():
    assert choose_providers("auto", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert (
        choose_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[0]
        == "CUDAExecutionProvider"
    )
    assert choose_providers("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CPUExecutionProvider"
    ]
    with pytest.raises(ModelError, match="onnxruntime-gpu"):
        choose_providers("cuda", ["CPUExecutionProvider"])
    with pytest.raises(ModelError, match="unknown device"):
        choose_providers("tpu", ["CPUExecutionProvider"])


def test_load_detector(blob_model, monkeypatch, tmp_path):
    assert load_detector(blob_model, device="cpu", min_score=0.7).min_score == 0.7
    monkeypatch.setattr("engine.runtime.bundled_model_path", lambda: tmp_path / "absent.onnx")
    with pytest.raises(ModelError, match="bundled model is missing"):
        load_detector(None)
    with pytest.raises(ModelError, match="unknown backend"):
        load_detector(blob_model, backend="tflite")
    with pytest.raises(ModelError, match="checkpoint"):
        load_detector(None, backend="torch")


def test_bundled_model_lives_in_resources_models():
    assert bundled_model_path().parts[-3:] == ("resources", "models", "r2cnn_aircraft.onnx")


def test_bundled_model_for_each_precision(monkeypatch, tmp_path):
    from engine.runtime import bundled_model_for

    fp32, fast = tmp_path / "r2cnn_aircraft.onnx", tmp_path / "r2cnn_aircraft.window.int8.onnx"
    monkeypatch.setattr("engine.runtime.bundled_model_path", lambda: fp32)
    monkeypatch.setattr("engine.runtime.cpu_features.int8_exact_cpu", lambda: True)
    assert bundled_model_for("int8", "cpu") == fp32  # no INT8 file: the fp32 one
    fast.write_bytes(b"")
    assert bundled_model_for("auto", "cpu") == fast
    assert bundled_model_for("int8", "cuda") == fast
    assert bundled_model_for("auto", "cuda") == fp32
    assert bundled_model_for("fp32", "cpu") == fp32
    with pytest.raises(ModelError, match="unknown precision"):
        bundled_model_for("fp16", "cpu")
    monkeypatch.setattr("engine.runtime.cpu_features.int8_exact_cpu", lambda: False)
    assert bundled_model_for("auto", "cpu") == fp32  # x86 without VNNI: INT8 would saturate; no window file
    window = tmp_path / "r2cnn_aircraft.window.onnx"
    window.write_bytes(b"")
    assert bundled_model_for("auto", "cpu") == window  # fp32, trunk once per window
    assert bundled_model_for("auto", "cuda") == fp32
    assert bundled_model_for("fp32", "cpu") == fp32  # the reference when asked for
    assert bundled_model_for("int8", "cpu") == fast  # asked for: given


def test_int8_needs_vnni_on_x86_only(monkeypatch):
    from engine.runtime import cpu_features

    monkeypatch.setattr(cpu_features.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(cpu_features, "_numpy_cpu_features", lambda: {"AVX2": True, "AVX512VNNI": False})
    assert not cpu_features.int8_exact_cpu()
    monkeypatch.setattr(cpu_features, "_numpy_cpu_features", lambda: {"AVX2": True, "AVX512VNNI": True})
    assert cpu_features.int8_exact_cpu()
    monkeypatch.setattr(cpu_features.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(cpu_features, "_numpy_cpu_features", lambda: {})
    assert cpu_features.int8_exact_cpu()
    assert isinstance(cpu_features._numpy_cpu_features().get("AVX2", False), bool)


def test_session_names_stay_importable_from_onnx_runtime():
    """onnx_session.py holds the session; callers that import these from onnx_runtime keep working."""
    from engine.runtime import onnx_runtime, onnx_session

    for name in ("OpenedModel", "SessionTuning", "as_model_input", "choose_providers", "default_threads", "open_model"):
        assert getattr(onnx_runtime, name) is getattr(onnx_session, name), name
    assert onnx_runtime.OnnxWindowDetector.__module__ == "engine.runtime.window_runtime"
