"""The shipped model through the window graph (exported from the shipped checkpoint): the same aircraft
as the per-patch path on a generated scene."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.report import agreement, found_truth
from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.runtime import bundled_model_path, load_detector
from engine.runtime.cpu_features import int8_exact_cpu

CHECKPOINT = bundled_model_path().with_suffix(".pt")

pytestmark = pytest.mark.skipif(
    not (bundled_model_path().is_file() and CHECKPOINT.is_file()),
    reason=f"shipped model and checkpoint not there yet ({bundled_model_path()}, {CHECKPOINT.name})",
)


@pytest.mark.slow
def test_window_graph_finds_the_same_aircraft(tmp_path):
    pytest.importorskip("torch")
    from benchmarks.variants import export_window_variant
    from engine.synthetic.scene_generator import write_scene_geotiff

    window_model = tmp_path / "window.onnx"
    export_window_variant(CHECKPOINT, bundled_model_path(), Path(window_model))  # checks: same weights
    truth = write_scene_geotiff(tmp_path / "scene.tif", 2048, 2048, seed=11, n_airports=2)
    config = DetectConfig(device="cpu", precision="fp32", extra={"threads": 1})
    per_patch = detect_raster(truth.path, config)
    windowed = detect_raster(truth.path, config, detector=load_detector(str(window_model), device="cpu", threads=1))
    assert windowed.stats.windows > 0 and per_patch.stats.windows == 0
    found = [found_truth(r.boxes_raster_px, r.scores, truth.boxes_raster_px) for r in (windowed, per_patch)]
    same = agreement(*found)
    assert same["same_aircraft_jaccard"] >= 0.95, same


@pytest.mark.skipif(not int8_exact_cpu(), reason="x86 CPU without VNNI: the default there is fp32, INT8 saturates")
@pytest.mark.slow
def test_default_int8_window_model_finds_the_same_aircraft_as_fp32(tmp_path):
    """The default on CPU (the shipped INT8 window graph) against the fp32 reference, per patch."""
    from engine.synthetic.scene_generator import write_scene_geotiff

    truth = write_scene_geotiff(tmp_path / "scene.tif", 2048, 2048, seed=11, n_airports=2)
    fp32 = detect_raster(truth.path, DetectConfig(device="cpu", precision="fp32"))
    default = detect_raster(truth.path, DetectConfig(device="cpu"))
    assert default.stats.windows > 0 and fp32.stats.windows == 0
    found = [found_truth(r.boxes_raster_px, r.scores, truth.boxes_raster_px) for r in (default, fp32)]
    same = agreement(*found)
    assert same["same_aircraft_jaccard"] >= 0.9, same
