"""`python -m engine.bench`: size parsing, the summary's ratios and targets, and a tiny real run."""

from __future__ import annotations

import argparse
import json

import pytest

from engine import bench


def test_parse_size():
    assert bench.parse_size("18000x18192") == (18000, 18192)
    assert bench.parse_size("4096") == (4096, 4096)
    for bad in ("12x", "100", "axb"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_size(bad)


def test_summary_ratios_and_targets():
    runs = {
        "gated": {"wall_s": 20.0, "peak_rss_mb": 900.0},
        "no_gate": {"wall_s": 50.0, "peak_rss_mb": 2100.0},
    }
    summary = bench.summarise(runs, 18000, 18192)
    assert summary["speedup_gated_vs_no_gate"] == 2.5 and summary["paper_speedup"] == 2.2
    assert summary["peak_rss_mb_max"] == 2100.0 and summary["peak_rss_within_target"] is False
    assert summary["ratio_to_paper_gated"] == pytest.approx(20.0 / 29.4, abs=1e-3)
    assert "ratio_to_paper_gated" not in bench.summarise(runs, 512, 512)


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
    assert set(report["runs"]) == {"gated", "no_gate"}
    gated = report["runs"]["gated"]
    assert gated["patches_total"] == 25 and gated["wall_s"] > 0 and gated["peak_rss_mb"] > 0
    assert "speedup_gated_vs_no_gate" in report["summary"]
    assert len(list(tmp_path.glob("scene_256x256_*.tif"))) == 1  # cached for the next run


def test_missing_model_fails_before_generating(tmp_path, capsys):
    missing = str(tmp_path / "none.onnx")
    code = bench.main(["--size", "256", "--model", missing, "--out-dir", str(tmp_path / "b")])
    assert code == 2 and "not found" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
