"""`python -m benchmarks.bench`: size and configuration parsing, the summary's ratios and table, the model
variants, and a tiny real run."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from benchmarks import bench
from benchmarks.cascade_report import cascade_rows, cascade_table, verdict
from benchmarks.cluttered_scene import cluttered_scene_for
from benchmarks.report import agreement, found_truth, markdown_table, summarise
from benchmarks.runs import median_of_rounds
from engine.errors import ModelError


def test_parse_size_and_configs():
    assert bench.parse_size("18000x18192") == (18000, 18192)
    assert bench.parse_size("4096") == (4096, 4096)
    for bad in ("12x", "100", "axb"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_size(bad)
    assert bench.parse_configs("int8-window, prescreen") == ["int8-window", "prescreen"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown"):
        bench.parse_configs("turbo")


def _run(wall: float, variant: str, runtime: str = "onnxruntime", **extra) -> dict:
    return {"wall_s": wall, "patches_per_s": 1260 / wall, "peak_rss_mb": 900.0, "variant": variant,
            "runtime": runtime, "precision": "int8" if "int8" in variant else "fp32", **extra}


def test_summary_ratios_targets_and_table():
    runs = {
        "fp32-patch": _run(60.0, "fp32"),
        "fp32-patch/no-gate": _run(80.0, "fp32"),
        "int8-window": _run(20.0, "window.int8", peak_rss_mb=1200.0, wall_s_rounds=[20.0, 24.0, 19.0]),
        "int8-window/no-gate": _run(50.0, "window.int8", peak_rss_mb=1600.0),
    }
    ap50 = {"fp32@onnxruntime": 0.91, "window.int8@onnxruntime": 0.905, "window.int8@openvino": 0.8}
    summary = summarise(runs, 18000, 18192, True, ap50)
    assert summary["speedup_gated_vs_no_gate"] == {"fp32-patch": 1.33, "int8-window": 2.5}
    assert summary["paper_speedup"] == 2.2
    assert summary["peak_rss_mb_max"] == 1600.0 and summary["peak_rss_within_target"] is False  # 1.5 GB
    rows = {row["configuration"]: row for row in summary["rows"]}
    assert rows["int8-window"]["ratio_to_paper"] == pytest.approx(20.0 / 29.4, abs=1e-3)
    assert rows["int8-window/no-gate"]["ratio_to_paper"] == pytest.approx(50.0 / 29.4, abs=1e-3)  # one target
    assert rows["int8-window"]["ratio_to_plain_tiling"] == pytest.approx(0.25)
    assert rows["fp32-patch/no-gate"]["ratio_to_plain_tiling"] == 1.0
    assert rows["int8-window"]["validation_ap50"] == 0.905  # the ONNX Runtime figure, not OpenVINO's
    assert "ratio_to_paper" not in summarise(runs, 512, 512, False)["rows"][0]
    assert summarise({"a": _run(1.0, "fp32")}, 512, 512, False)["rows"][0]["ratio_to_plain_tiling"] is None
    table = markdown_table(summary)
    assert table.count("\n") == 5
    assert "| int8-window | onnxruntime int8 | 20.0 (20.0, 24.0, 19.0) | 63.0 | 1200 | 0.9050 |" in table
    assert table.splitlines()[4].endswith("| 0.68 | 0.25 | - |")


def test_time_shares_time_the_trunk_on_calls_that_passed_nothing_and_on_re_runs():
    import numpy as np

    from benchmarks.profile import RERUN_CALLS, TimedDetector, time_shares
    from engine.runtime.types import BatchResult

    class Fake:
        config, device = "config", "cpu"
        gates: list[float] = []

        def run_windows(self, windows, rows, cols, gate):
            self.gates.append(gate)
            return BatchResult(np.array([0.9 if windows[0, 0, 0, 0] else 0.1]), [None])

    fake = Fake()
    timed = TimedDetector(fake)
    assert timed.device == "cpu" and hasattr(timed, "run_windows")
    assert not hasattr(TimedDetector(object()), "run_windows")  # per-patch detectors stay per patch
    for value in (0, 0, 1, 1, 1, 1):
        timed.run_windows(np.full((1, 3, 1000, 500), value, np.uint8), [0], [0], 0.5)
    profile = timed.profile()
    assert fake.gates == [0.5] * 6 + [2.0] * RERUN_CALLS  # the passing calls again, gate closed, after the scene
    assert profile["calls"] == 6 and profile["calls_passing_none"] == 2 and profile["input_mpx"] == 3.0
    assert profile["calls_new_shape"] == 2  # (shape, 0 passed) and (shape, 1 passed)
    assert profile["trunk_s_per_mpx"] > 0
    stages = {"total": 10.0, "open": 0.5, "stretch": 0.5, "read_wait": 1.0, "merge": 0.5, "read": 7.0}
    shares = time_shares(stages, {"network_s": 6.0, "input_mpx": 3.0, "trunk_s_per_mpx": 1.5})
    assert shares == {"trunk": 0.45, "detector": 0.15, "reading": 0.2, "merging": 0.05, "other": 0.15}
    assert time_shares(stages, {"network_s": 6.0, "input_mpx": 3.0, "trunk_s_per_mpx": None}) is None
    assert time_shares(stages, {"network_s": 1.0, "input_mpx": 3.0, "trunk_s_per_mpx": 1.5})["detector"] == 0.0


def test_found_truth_and_agreement():
    truth = [[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]]
    boxes = [[21, 21, 31, 31], [0, 0, 10, 10], [0, 1, 10, 11]]  # the third box duplicates the first truth
    assert found_truth(boxes, [0.9, 0.8, 0.7], truth) == {0, 1}
    assert agreement({0, 1}, {0, 1, 2}) == {
        "same_aircraft_jaccard": pytest.approx(2 / 3, abs=1e-4),
        "found_only_here": 0,
        "found_only_by_baseline": 1,
    }


def test_tiny_bench_run_writes_a_report(tmp_path, blob_model_path, capsys):
    report_path = tmp_path / "report.json"
    code = bench.main(
        [
            "--size",
            "256",
            "--airports",
            "1",
            "--model",
            blob_model_path,
            "--configs",
            "prescreen",
            "--scenes",
            "smooth",
            "--no-ap",
            "--repeat",
            "2",
            "--threads",
            "1",
            "--out-dir",
            str(tmp_path),
            "--json",
            str(report_path),
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert set(report["runs"]) == {"fp32-patch", "prescreen", "fp32-patch/no-gate"}  # the baseline always runs
    gated = report["runs"]["fp32-patch"]
    assert (gated["runtime"], gated["precision"]) == ("onnxruntime", "fp32")
    rows = {row["configuration"]: row for row in report["summary"]["rows"]}
    assert rows["fp32-patch/no-gate"]["ratio_to_plain_tiling"] == 1.0
    shares = rows["fp32-patch/no-gate"]["time_shares"]  # every call passed patches: the re-runs time the trunk
    assert shares is not None and sum(shares.values()) == pytest.approx(1.0, abs=0.01)
    assert gated["patches_total"] == 25 and gated["wall_s"] > 0 and gated["peak_rss_mb"] > 0
    assert len(gated["wall_s_rounds"]) == 2 and min(gated["wall_s_rounds"]) <= gated["wall_s"]
    assert report["runs"]["prescreen"]["agreement"]["same_aircraft_jaccard"] == 1.0
    assert "speedup_gated_vs_no_gate" in report["summary"]
    assert "| prescreen |" in capsys.readouterr().out
    assert len(list(tmp_path.glob("scene_256x256_*.tif"))) == 1  # cached for the next run


def test_variants_are_made_once_and_found_beside_the_model(tmp_path, tiny_models, monkeypatch):
    from benchmarks.variants import resolve_variants

    made = []
    monkeypatch.setattr("engine.export.quantize.quantize_model", lambda src, dst: made.append(dst) or _copy(src, dst))
    base = tmp_path / "m.onnx"
    _copy(tiny_models.patch_onnx, base)
    assert resolve_variants(base, ["fp32", "window"], tmp_path / "cache", None, log=lambda _: None) == {"fp32": base}
    assert resolve_variants(base, ["window.int8"], tmp_path / "cache", None, log=lambda _: None) == {}
    with pytest.raises(ModelError, match="cannot load torch checkpoint"):
        resolve_variants(base, ["window"], tmp_path / "cache", tmp_path / "absent.pt")
    _copy(tiny_models.checkpoint, tmp_path / "m.pt")
    found = resolve_variants(base, ["int8", "window.int8"], tmp_path / "cache", tmp_path / "m.pt")
    assert found["window.int8"].name == "m.window.int8.onnx" and found["int8"].name == "m.int8.onnx"
    assert len(made) == 2
    assert resolve_variants(base, ["int8"], tmp_path / "cache", None)["int8"] == found["int8"]  # cached
    assert len(made) == 2


def test_missing_model_fails_before_generating(tmp_path, capsys):
    missing = str(tmp_path / "none.onnx")
    code = bench.main(["--size", "256", "--model", missing, "--out-dir", str(tmp_path / "b")])
    assert code == 2 and "not found" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def _copy(src, dst) -> None:
    import shutil

    shutil.copyfile(src, dst)


def test_median_of_rounds_keeps_the_first_detections_and_the_median_time():
    first = {"wall_s": 10.0, "patches_total": 100, "peak_rss_mb": 500.0, "detections": 7}
    record = median_of_rounds(None, first)
    record = median_of_rounds(record, {**first, "wall_s": 30.0, "peak_rss_mb": 520.0, "detections": 8})
    record = median_of_rounds(record, {**first, "wall_s": 12.0})
    assert record["wall_s"] == 12.0 and record["wall_s_rounds"] == [10.0, 30.0, 12.0]
    assert record["patches_per_s"] == round(100 / 12.0, 2) and record["peak_rss_mb"] == 520.0
    assert record["detections"] == 7


def test_scene_kinds_and_the_cascade_table():
    assert bench.parse_scenes("smooth, cluttered") == ["smooth", "cluttered"]
    with pytest.raises(argparse.ArgumentTypeError):
        bench.parse_scenes("desert")
    passes = {"grid": 1260, "prescreen": 1026, "cascade": 200, "trunk": 200, "gate": 60, "detections": 500}
    runs = {
        "ov-int8-window-cascade": _run(10.0, "window.int8", "openvino", recall_iou50=0.95, precision_iou50=0.9,
                               stage_passes=passes, mpx_per_s=32.7, km2_per_s=131.0),
        "ov-int8-window": _run(25.0, "window.int8", "openvino", recall_iou50=0.953, precision_iou50=0.88),
        "ov-int8-window/no-gate": _run(40.0, "window.int8", "openvino", recall_iou50=0.96, precision_iou50=0.7),
    }
    rows = cascade_rows("cluttered", runs)
    assert [r["mode"] for r in rows] == ["default", "no-cascade", "no-gate"]
    assert [r["x_default"] for r in rows] == [1.0, 2.5, 4.0]
    checks = verdict(rows)["cluttered"]
    assert checks["speedup_vs_no_gate"] == 4.0 and checks["speedup_within_target"]
    assert checks["recall_drop_vs_no_cascade"] == 0.003 and checks["recall_within_target"]
    assert checks["default_within_12_s"] and checks["precision_not_lower"]
    table = cascade_table(rows)
    assert "| cluttered | default | 10.0 | 1.00 | 32.7 | 131.0 | 900 | 1260 / 1026 / 200 / 200 / 60 |" in table


def test_cluttered_scene_keeps_clouds_off_the_aircraft(tmp_path):
    import rasterio

    from benchmarks.cluttered_scene import CLOUD_CLEARANCE_PX, place_clouds
    from engine.synthetic.scene_generator import read_truth

    boxes = np.array([[100, 100, 120, 120], [900, 900, 930, 925]], np.float32)
    clouds = place_clouds(np.random.default_rng(1), boxes, 2000, 2000, 6)
    assert clouds
    for cloud in clouds:
        for x0, y0, x1, y1 in boxes:
            assert np.hypot((x0 + x1) / 2 - cloud.cx, (y0 + y1) / 2 - cloud.cy) >= 1.3 * cloud.rx + CLOUD_CLEARANCE_PX
    path = cluttered_scene_for(tmp_path, 1024, 1024, seed=3, airports=1)
    assert cluttered_scene_for(tmp_path, 1024, 1024, seed=3, airports=1) == path  # cached
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "uint16" and src.nodata == 0
    assert len(read_truth(path).boxes_raster_px) > 0
