"""--runtime: what auto picks, a request that cannot be met, OpenVINO on the tiny graphs (window shapes
that change from call to call included), bad files refused as ONNX Runtime refuses them, and the run
statistics and the CLI naming the runtime and precision that ran."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import onnx
import pytest

from engine.config import ModelConfig
from engine.contract import GATE_OFF, ONNXRUNTIME, OPENVINO, RUNTIMES
from engine.errors import ModelError
from engine.runtime import load_detector
from engine.runtime.openvino_session import openvino_importable
from engine.runtime.runtime_choice import choose_runtime
from tests.engine.blob_model import write_blob_model
from tests.engine.hostile_files import RunsCode, write_torch_like_pickle

GRID = (np.array([0, 96]), np.array([0, 96, 192]))  # patch origins of a 2 x 3 window of 128 px patches
needs_openvino = pytest.mark.skipif(not openvino_importable(), reason="openvino is not installed")


@pytest.fixture(scope="module")
def blob_model(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("model") / "blob.onnx")
    write_blob_model(path, patch_size=64, cell_px=16, config=ModelConfig(overlap=0.25))
    return path


def test_auto_takes_openvino_on_the_cpu_and_onnxruntime_for_cuda(monkeypatch):
    monkeypatch.setattr("engine.runtime.openvino_session.openvino_importable", lambda: True)
    monkeypatch.setattr("engine.runtime.onnx_session.cuda_available", lambda: False)
    assert choose_runtime("auto", "cpu") == choose_runtime("auto", "auto") == OPENVINO
    assert choose_runtime("auto", "cuda") == ONNXRUNTIME
    assert choose_runtime(ONNXRUNTIME, "cpu") == ONNXRUNTIME
    monkeypatch.setattr("engine.runtime.onnx_session.cuda_available", lambda: True)
    assert choose_runtime("auto", "auto") == ONNXRUNTIME  # onnxruntime-gpu installed: CUDA runs it
    assert choose_runtime("auto", "cpu") == OPENVINO
    monkeypatch.setattr("engine.runtime.openvino_session.openvino_importable", lambda: False)
    assert choose_runtime("auto", "cpu") == ONNXRUNTIME
    with pytest.raises(ModelError, match="unknown runtime"):
        choose_runtime("tensorrt", "cpu")
    with pytest.raises(ModelError, match="unknown device"):
        choose_runtime("auto", "tpu")


def test_without_openvino_auto_falls_back_and_a_request_says_how_to_install(monkeypatch, blob_model):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    assert not openvino_importable()
    detector = load_detector(blob_model, device="cpu", runtime="auto")
    assert (detector.runtime, detector.precision) == (ONNXRUNTIME, "fp32")
    with pytest.raises(ModelError, match="pip install openvino"):
        load_detector(blob_model, device="cpu", runtime=OPENVINO)


@needs_openvino
def test_openvino_runs_the_tiny_graphs_like_onnxruntime(tiny_models):
    windows = np.random.default_rng(3).integers(60, 200, (1, 3, 128 + 96, 128 + 192)).astype(np.uint8)
    for path in (tiny_models.patch_onnx, tiny_models.window_onnx):
        ort, ov = (load_detector(path, device="cpu", min_score=0.0, threads=1, runtime=r) for r in RUNTIMES[1:])
        assert (ov.runtime, ov.precision, ov.threads) == (OPENVINO, "fp32", 1)
        assert type(ov) is type(ort) and ov.config == ort.config
        calls = [lambda d: d(windows[:, :, :128, :128], GATE_OFF)]
        if hasattr(ov, "run_windows"):  # two shapes in a row: OpenVINO re-plans for each
            calls += [lambda d: d.run_windows(windows, *GRID, 0.5), lambda d: d(windows[:, :, :128, :128], 0.5)]
        for call in calls:
            a, b = call(ort), call(ov)
            np.testing.assert_allclose(b.gate_scores, a.gate_scores, atol=1e-5)
            for x, y in zip(a.detections, b.detections, strict=True):
                assert len(x.scores) == len(y.scores)
                np.testing.assert_allclose(y.boxes_patch_px, x.boxes_patch_px, atol=1e-2)
                np.testing.assert_allclose(y.scores, x.scores, atol=1e-4)


@needs_openvino
def test_openvino_refuses_what_onnxruntime_refuses(tmp_path, blob_model):
    marker = tmp_path / "executed"
    write_torch_like_pickle(tmp_path / "pickle.onnx", RunsCode(marker))
    (tmp_path / "text.onnx").write_text("hello")
    foreign = onnx.load(blob_model)
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    cases = {"pickle.onnx": "not a valid ONNX model", "text.onnx": "not a valid ONNX model",
             "none.onnx": "not found", "foreign.onnx": "not an r2cnn one"}
    for name, message in cases.items():
        with pytest.raises(ModelError, match=message):
            load_detector(str(tmp_path / name), device="cpu", runtime=OPENVINO)
    assert not marker.exists()
    with pytest.raises(ModelError, match="runs on the CPU"):
        load_detector(blob_model, device="cuda", runtime=OPENVINO)


def _raster(path) -> str:
    """A 100 x 150 uint8 GeoTIFF without georeference holding two bright blobs."""
    import rasterio
    import rasterio.errors

    data = np.random.default_rng(0).integers(80, 120, (1, 100, 150)).astype(np.uint8)
    data[0, 20:26, 20:27] = data[0, 70:76, 100:108] = 250
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="GTiff", width=150, height=100, count=1, dtype="uint8") as dst:
            dst.write(data)
    return str(path)


@pytest.mark.parametrize("runtime", [ONNXRUNTIME, pytest.param(OPENVINO, marks=needs_openvino)])
def test_run_statistics_and_the_cli_name_what_ran(tmp_path, capsys, blob_model, runtime):
    from engine.cli.main import main

    stats = tmp_path / "stats.json"
    argv = ["detect", _raster(tmp_path / "scene.tif"), "-o", str(tmp_path / "out.gpkg"), "--model", blob_model,
            "--device", "cpu", "--runtime", runtime, "--stats-json", str(stats)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "2 aircraft" in err and f"{runtime} fp32, none stretch)" in err, err
    report = json.loads(stats.read_text())["rasters"][0]
    assert (report["runtime"], report["precision"]) == (runtime, "fp32")


def test_auto_opens_int8_and_fp32_files_in_openvino_on_the_cpu():
    """The fastest installed path: the bundled INT8 window graph and the fp32 file both go to OpenVINO."""
    pytest.importorskip("openvino")
    from engine.runtime import bundled_model_for
    from engine.runtime.runtime_choice import open_with_runtime

    for precision in ("int8", "fp32"):
        opened = open_with_runtime(str(bundled_model_for(precision, "cpu")), "cpu", runtime="auto")
        assert (opened.runtime, opened.precision) == (OPENVINO, precision)
    reference = open_with_runtime(str(bundled_model_for("int8", "cpu")), "cpu", runtime=ONNXRUNTIME)
    assert (reference.runtime, reference.precision) == (ONNXRUNTIME, "int8")
