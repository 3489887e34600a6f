"""The benchmark's summary: one row per configuration against the paper's 29.4 s, the gated / --no-gate
ratio, memory, validation AP50, and whether the same aircraft were found as with the baseline."""

from __future__ import annotations

import numpy as np

from engine.ops.box_arrays import greedy_match

PAPER_SECONDS = {"gated": 29.4, "no_gate": 64.7}  # R2-CNN Table VI, one GF-1 scene on a Titan X (targets)
PEAK_RSS_TARGET_MB = 2048.0
SPEEDUP_TARGET = 2.0
NO_GATE_SUFFIX = "/no-gate"


def found_truth(boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray, iou_threshold: float = 0.5) -> set[int]:
    """Indices of the true aircraft a run found (one-to-one VOC matching, engine.ops.box_arrays)."""
    found = greedy_match(boxes, scores, truth, iou_threshold).truth_found
    return {int(i) for i in np.flatnonzero(found)}


def agreement(found: set[int], reference: set[int]) -> dict:
    """Same aircraft found? Counts found by only one of the two runs, and their Jaccard index."""
    union = found | reference
    return {
        "same_aircraft_jaccard": round(len(found & reference) / len(union), 4) if union else 1.0,
        "found_only_here": len(found - reference),
        "found_only_by_baseline": len(reference - found),
    }


def summarise(runs: dict, height: int, width: int, full_scene: bool, ap50: dict | None = None) -> dict:
    """Ratios and targets per configuration; ratio_to_paper only on the GF-1-sized scene."""
    ap50 = ap50 or {}
    summary: dict = {"scene_px": [height, width], "rows": []}
    for name, run in runs.items():
        gated = not name.endswith(NO_GATE_SUFFIX)
        row = {
            "configuration": name,
            "seconds": run["wall_s"],
            "patches_per_s": run["patches_per_s"],
            "peak_rss_mb": run.get("peak_rss_mb"),
            "validation_ap50": ap50.get(run.get("variant", "")),
            "recall_iou50": run.get("recall_iou50"),
            "same_aircraft_jaccard": run.get("agreement", {}).get("same_aircraft_jaccard"),
        }
        if full_scene:
            paper = PAPER_SECONDS["gated" if gated else "no_gate"]
            row["ratio_to_paper"] = round(run["wall_s"] / paper, 3)
        summary["rows"].append(row)
        no_gate = runs.get(name + NO_GATE_SUFFIX)
        if gated and no_gate:
            summary.setdefault("speedup_gated_vs_no_gate", {})[name] = round(no_gate["wall_s"] / run["wall_s"], 2)
    if "speedup_gated_vs_no_gate" in summary:
        summary["speedup_target"] = SPEEDUP_TARGET
        summary["paper_speedup"] = round(PAPER_SECONDS["no_gate"] / PAPER_SECONDS["gated"], 2)
    peaks = [r["peak_rss_mb"] for r in runs.values() if r.get("peak_rss_mb") is not None]
    summary["peak_rss_mb_max"] = max(peaks) if peaks else None
    summary["peak_rss_within_target"] = bool(peaks) and max(peaks) <= PEAK_RSS_TARGET_MB
    return summary


def markdown_table(summary: dict) -> str:
    """The README's performance table, one line per configuration."""
    paper = f"{PAPER_SECONDS['gated']} s / {PAPER_SECONDS['no_gate']} s"
    lines = [
        "| configuration | seconds | patches/s | peak memory (MB) | validation AP50 | scene recall "
        f"| same aircraft as baseline | ratio to paper ({paper}) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["rows"]:
        cells = [
            row["configuration"],
            _fmt(row["seconds"], "{:.1f}"),
            _fmt(row["patches_per_s"], "{:.1f}"),
            _fmt(row["peak_rss_mb"], "{:.0f}"),
            _fmt(row["validation_ap50"], "{:.4f}"),
            _fmt(row["recall_iou50"], "{:.3f}"),
            _fmt(row["same_aircraft_jaccard"], "{:.3f}"),
            _fmt(row.get("ratio_to_paper"), "{:.2f}"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
