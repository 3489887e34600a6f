"""The cascade table of `make bench`: per scene, r2cnn detect's default (cascade + gate), --no-cascade and
--no-gate: time, the ratios, Mpx/s, km^2/s, peak memory, patches passed at each stage, recall, and where
the default's time went."""

from __future__ import annotations

from benchmarks.configs import DEFAULT, NO_CASCADE
from benchmarks.report import NO_GATE_SUFFIX

TARGETS = {"default_s": 12.0, "speedup_vs_no_gate": 3.0, "recall_drop": 0.005, "peak_rss_mb": 1536.0}  # issue 22
MODES = (("default", DEFAULT), ("no-cascade", NO_CASCADE), ("no-gate", NO_CASCADE + NO_GATE_SUFFIX))
STAGE_TIMES = ("open", "stretch", "prescreen", "cascade", "network", "read_wait", "merge", "total")


def cascade_rows(scene_kind: str, runs: dict) -> list[dict]:
    """One row per mode that ran on this scene."""
    rows = []
    default = runs.get(DEFAULT)
    for mode, label in MODES:
        run = runs.get(label)
        if run is None:
            continue
        seconds = run.get("stage_seconds", {})
        rows.append({
            "scene": scene_kind,
            "mode": mode,
            "seconds": run["wall_s"],
            "seconds_rounds": run.get("wall_s_rounds"),
            "x_default": round(run["wall_s"] / default["wall_s"], 2) if default else None,
            "mpx_per_s": run.get("mpx_per_s"),
            "km2_per_s": run.get("km2_per_s"),
            "peak_rss_mb": run.get("peak_rss_mb"),
            "passes": run.get("stage_passes", {}),
            "recall_iou50": run.get("recall_iou50"),
            "precision_iou50": run.get("precision_iou50"),
            "stage_seconds": {k: seconds[k] for k in STAGE_TIMES if k in seconds},
        })
    return rows


def verdict(rows: list[dict]) -> dict:
    """The issue's targets against the measured rows (per scene)."""
    out: dict = {}
    for scene in dict.fromkeys(r["scene"] for r in rows):
        by_mode = {r["mode"]: r for r in rows if r["scene"] == scene}
        default, plain, gate_only = by_mode.get("default"), by_mode.get("no-gate"), by_mode.get("no-cascade")
        if default is None:
            continue
        checks = {"default_s": default["seconds"], "default_within_12_s": default["seconds"] <= TARGETS["default_s"],
                  "peak_rss_within_target": (default["peak_rss_mb"] or 0) <= TARGETS["peak_rss_mb"]}
        if plain:
            checks["speedup_vs_no_gate"] = round(plain["seconds"] / default["seconds"], 2)
            checks["speedup_within_target"] = checks["speedup_vs_no_gate"] >= TARGETS["speedup_vs_no_gate"]
        if gate_only:
            checks["speedup_vs_no_cascade"] = round(gate_only["seconds"] / default["seconds"], 2)
            drop = (gate_only["recall_iou50"] or 0.0) - (default["recall_iou50"] or 0.0)
            checks["recall_drop_vs_no_cascade"] = round(drop, 4)
            checks["recall_within_target"] = drop <= TARGETS["recall_drop"]
            checks["precision_not_lower"] = (default["precision_iou50"] or 0.0) >= (gate_only["precision_iou50"] or 0.0)
        out[scene] = checks
    return out


def cascade_table(rows: list[dict]) -> str:
    """Markdown: the README's and the model card's cascade table."""
    lines = [
        "| scene | mode | seconds | x default | Mpx/s | km²/s | peak MB | patches: grid / data / cascade / trunk / "
        "gate | recall | precision |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        p = row["passes"]
        passes = " / ".join(str(p[k]) if k in p else "-" for k in ("grid", "prescreen", "cascade", "trunk", "gate"))
        cells = [row["scene"], row["mode"], f"{row['seconds']:.1f}", _fmt(row["x_default"], "{:.2f}"),
                 _fmt(row["mpx_per_s"], "{:.1f}"), _fmt(row["km2_per_s"], "{:.1f}"), _fmt(row["peak_rss_mb"], "{:.0f}"),
                 passes, _fmt(row["recall_iou50"], "{:.3f}"), _fmt(row["precision_iou50"], "{:.3f}")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
