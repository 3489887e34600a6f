"""`python -m benchmarks.bench`: size and configuration parsing, the summary's ratios and table, the model
variants, and a tiny real run."""

from __future__ import annotations

import argparse
import json

import pytest

from benchmarks import bench
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


def test_summary_ratios_targets_and_table():
    runs = {
        "fp32-patch": {"wall_s": 60.0, "patches_per_s": 21.0, "peak_rss_mb": 900.0, "variant": "fp32"},
        "int8-window": {"wall_s": 20.0, "patches_per_s": 63.0, "peak_rss_mb": 1200.0, "variant": "window.int8"},
        "int8-window/no-gate": {"wall_s": 50.0, "patches_per_s": 25.2, "peak_rss_mb": 2100.0, "variant": "window.int8"},
    }
    summary = summarise(runs, 18000, 18192, True, {"fp32": 0.91, "window.int8": 0.905})
    assert summary["speedup_gated_vs_no_gate"] == {"int8-window": 2.5} and summary["paper_speedup"] == 2.2
    assert summary["peak_rss_mb_max"] == 2100.0 and summary["peak_rss_within_target"] is False
    rows = {row["configuration"]: row for row in summary["rows"]}
    assert rows["int8-window"]["ratio_to_paper"] == pytest.approx(20.0 / 29.4, abs=1e-3)
    assert rows["int8-window/no-gate"]["ratio_to_paper"] == pytest.approx(50.0 / 64.7, abs=1e-3)
    assert rows["int8-window"]["validation_ap50"] == 0.905
    assert "ratio_to_paper" not in summarise(runs, 512, 512, False)["rows"][0]
    table = markdown_table(summary)
    assert table.count("\n") == 4 and "| int8-window | 20.0 | 63.0 | 1200 | 0.9050 |" in table


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
