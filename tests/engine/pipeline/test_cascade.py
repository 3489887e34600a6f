"""The cascade's first look: decimated views through the reader, the bundled file, the switch and the stats
(what it drops against the full gate: tests/benchmarks/test_cascade_check.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import DetectConfig
from engine.errors import ModelError
from engine.pipeline.cascade import decimated_patches, decimated_view
from engine.pipeline.detect import detect_raster
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.tiling import tile_grid
from engine.runtime.cascade_runtime import CascadeScorer, bundled_cascade_path

from ..hostile_files import RunsCode, write_torch_like_pickle
from .conftest import FakeBlobDetector


@pytest.fixture(scope="module")
def scene_path(tmp_path_factory):
    from engine.synthetic.scene_generator import write_scene_geotiff

    path = tmp_path_factory.mktemp("cascade") / "scene.tif"
    return write_scene_geotiff(path, 1400, 1700, seed=31, n_airports=1, clutter=2.0).path


def test_strip_cuts_equal_per_patch_decimated_reads(scene_path):
    with RasterScene(scene_path, 2.0, stretch_mode="local", fill_value=110.0) as scene:
        origins = tile_grid(*scene.size_model_px, 640, 0.2)
        row = [i for i in range(len(origins)) if origins[i, 1] == 0]
        index, patches = decimated_patches(scene, origins, 640, 4, row)
        assert patches.shape == (len(row), 2, 160, 160) and patches.dtype == np.uint8
        for k, i in enumerate(index):
            x, y = origins[i]
            if x % 4:
                continue  # a last patch flush with the edge starts between two decimated pixels
            np.testing.assert_array_equal(patches[k], decimated_view(scene, (int(x), int(y)), (160, 160), 4))
        full, _ = scene.read_region_u8((0, 0), (640, 640))
        blocks = full[0].reshape(160, 4, 160, 4).astype(np.float32)
        assert np.abs(patches[0, 0] - blocks.mean(axis=(1, 3))).mean() < 2.0  # the mean of the full view
        assert (patches[0, 1] >= patches[0, 0]).all()  # and the brightest of its cells
        brightest = blocks.max(axis=(1, 3))
        assert np.abs(patches[0, 1] - brightest).mean() < np.abs(patches[0, 0] - brightest).mean()


def test_default_runs_the_cascade_and_the_switch_turns_it_off(scene_path):
    on = detect_raster(scene_path, DetectConfig(device="cpu", cascade=True))
    off = detect_raster(scene_path, DetectConfig(device="cpu"))
    plain = detect_raster(scene_path, DetectConfig(device="cpu", cascade=True, use_gate=False))
    assert on.stats.cascade and not off.stats.cascade and not plain.stats.cascade
    passes = on.stats.stage_passes
    assert list(passes) == ["grid", "prescreen", "cascade", "trunk", "gate", "detections"]
    assert passes["cascade"] == on.stats.patches_cascade_passed >= passes["trunk"] >= passes["gate"]
    assert passes["trunk"] <= off.stats.stage_passes["trunk"] and "cascade" not in off.stats.stage_passes
    assert {"cascade", "cascade_network", "cascade_read", "prescreen"} <= set(on.stats.stage_seconds)
    assert on.stats.patches_passed_gate <= off.stats.patches_passed_gate
    assert on.stats.to_dict()["stage_passes"] == passes  # what --stats-json writes


def test_other_patch_sizes_run_without_it(tmp_path, tif):
    notes = []
    path = tif(tmp_path / "grey.tif", np.random.default_rng(0).integers(80, 120, (1, 200, 200)).astype(np.uint8))
    result = detect_raster(path, DetectConfig(cascade=True), detector=FakeBlobDetector(), log=notes.append)
    assert not result.stats.cascade and any("cascade off: calibrated for 640 px" in n for n in notes)


def test_hostile_or_foreign_files_are_refused(tmp_path):
    marker = tmp_path / "ran"
    hostile = write_torch_like_pickle(tmp_path / "cascade.onnx", RunsCode(marker))
    with pytest.raises(ModelError):
        CascadeScorer(str(hostile))
    assert not marker.exists()
    from engine.runtime import bundled_model_path

    with pytest.raises(ModelError, match="cascade"):
        CascadeScorer(str(bundled_model_path()))  # a detector, not a cascade
    with pytest.raises(ModelError, match="--no-cascade"):
        CascadeScorer(str(tmp_path / "missing.onnx"))


def test_bundled_cascade_is_tiny_and_calibrated():
    scorer = CascadeScorer()
    assert scorer.path == str(bundled_cascade_path())
    assert 0.0 < scorer.config.threshold < 1.0 and scorer.config.calibrated_keep >= 0.995
    import onnx

    weights = sum(int(np.prod(t.dims)) for t in onnx.load(scorer.path).graph.initializer)
    assert weights < 10_000  # a few thousand parameters
