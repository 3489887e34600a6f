"""The benchmark's summary: one row per configuration against the paper's 29.4 s and the plain tiled
pipeline, where its time went, the gated / --no-gate ratio, memory, validation AP50, and whether the same
aircraft were found as with the baseline."""

from __future__ import annotations

import numpy as np

from benchmarks.configs import BASELINE, PLAIN_TILING
from benchmarks.profile import SHARES, time_shares
from engine.ops.box_arrays import greedy_match

PAPER_SECONDS = {"gated": 29.4, "no_gate": 64.7}  # R2-CNN Table VI, one GF-1 scene on a Titan X (targets)
PEAK_RSS_TARGET_MB = 1536.0  # issue 12: at most 1.5 GB
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
    """Per configuration: ratios to the paper's gated time (GF-1-sized scene only) and to the plain tiled
    pipeline (fp32 per patch, no gate), time shares, memory, quality; the gated / --no-gate speed-ups."""
    ap50 = ap50 or {}
    summary: dict = {"scene_px": [height, width], "rows": []}
    plain = runs.get(PLAIN_TILING + NO_GATE_SUFFIX)
    for name, run in runs.items():
        gated = not name.endswith(NO_GATE_SUFFIX)
        row = {
            "configuration": name,
            "runtime": run.get("runtime"),
            "precision": run.get("precision"),
            "seconds": run["wall_s"],
            "seconds_rounds": run.get("wall_s_rounds"),
            "patches_per_s": run["patches_per_s"],
            "peak_rss_mb": run.get("peak_rss_mb"),
            "validation_ap50": ap50.get(ap50_key(run.get("variant", ""), run.get("runtime", ""))),
            "recall_iou50": run.get("recall_iou50"),
            "same_aircraft_jaccard": run.get("agreement", {}).get("same_aircraft_jaccard"),
            "ratio_to_plain_tiling": round(run["wall_s"] / plain["wall_s"], 3) if plain else None,
            "time_shares": _shares(run),
        }
        if full_scene:
            row["ratio_to_paper"] = round(run["wall_s"] / PAPER_SECONDS["gated"], 3)
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


def ap50_key(variant: str, runtime: str) -> str:
    """Validation AP50 is per model file and runtime (their INT8 kernels round differently)."""
    return f"{variant}@{runtime}"


def _shares(run: dict) -> dict | None:
    """Time shares of the run's first round (its stage times and profile are that round's)."""
    if not run.get("profile") or "stage_seconds" not in run:
        return None
    first_wall = (run.get("wall_s_rounds") or [run["wall_s"]])[0]
    return time_shares({**run["stage_seconds"], "total": first_wall}, run["profile"])


def markdown_table(summary: dict) -> str:
    """The README's performance table, one line per configuration."""
    lines = [
        "| configuration | runtime, precision | seconds (rounds) | patches/s | peak memory (MB) | validation AP50 "
        f"| scene recall | same aircraft as {BASELINE} | x paper's {PAPER_SECONDS['gated']} s | x plain tiling "
        "| trunk / detector / reading / merging |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["rows"]:
        rounds = row.get("seconds_rounds") or []
        seconds = _fmt(row["seconds"], "{:.1f}")
        if len(rounds) > 1:
            seconds += " (" + ", ".join(f"{r:.1f}" for r in rounds) + ")"
        shares = row.get("time_shares")
        cells = [
            row["configuration"],
            " ".join(filter(None, (row.get("runtime"), row.get("precision")))) or "-",
            seconds,
            _fmt(row["patches_per_s"], "{:.1f}"),
            _fmt(row["peak_rss_mb"], "{:.0f}"),
            _fmt(row["validation_ap50"], "{:.4f}"),
            _fmt(row["recall_iou50"], "{:.3f}"),
            _fmt(row["same_aircraft_jaccard"], "{:.3f}"),
            _fmt(row.get("ratio_to_paper"), "{:.2f}"),
            _fmt(row.get("ratio_to_plain_tiling"), "{:.2f}"),
            " / ".join(f"{100 * shares[k]:.0f} %" for k in SHARES[:4]) if shares else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
