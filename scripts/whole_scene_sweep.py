"""Whole-scene quality of one model, as JSON: recall / precision over score thresholds, by aircraft size,
at precision 0.95 and 0.98, false positives, and large aircraft found as one box (issue: whole-scene quality).

    .venv/bin/python scripts/whole_scene_sweep.py --model M.window.int8.onnx --scenes runs/scenes --demo \
        --out sweep.json

Scenes with "clutter" in their name are the cluttered-land group, the others the smooth-land group; --demo
adds the `make demo` scene (2048 px, seed 7) and the seed-11 scene, generated into a temporary folder.
Each scene is detected once with `r2cnn detect`'s defaults (gate, stretch, tiles) down to score 0.05.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from engine.config import DetectConfig
from engine.evaluation.metrics import MIN_SCORE
from engine.evaluation.scene_recall import scene_paths
from engine.evaluation.scene_sweep import (
    LARGE_PX,
    SceneRun,
    by_size,
    false_positive_sizes,
    recall_at_precision,
    run_scene,
    sweep,
)
from engine.runtime import load_detector
from engine.synthetic.scene_generator import write_scene_geotiff

GRID = tuple(round(t, 2) for t in np.arange(0.05, 0.991, 0.01))


def summary(runs: list[SceneRun], model_threshold: float) -> dict:
    """Every figure for one group of scenes."""
    rows = sweep(runs, GRID)
    at = min(rows, key=lambda r: abs(r.threshold - model_threshold))
    best = max(rows, key=lambda r: (r.f1, -r.threshold))
    fps = false_positive_sizes(runs, model_threshold)
    out = {
        "scenes": [(Path(r.path).name, len(r.truth_raster_px), round(r.seconds, 1)) for r in runs],
        "model_threshold": {"threshold": model_threshold, "recall": at.recall, "precision": at.precision,
                            "tp": at.tp, "fp": at.fp, "fn": at.fn},
        "best_f1": {"threshold": best.threshold, "recall": best.recall, "precision": best.precision},
        "by_size": [dataclass_row(b) for b in by_size(runs, model_threshold)],
        "false_positives": {
            "count": len(fps),
            "size_px_quartiles": np.percentile(fps[:, 0], [0, 25, 50, 75, 100]).round(1).tolist() if len(fps) else [],
            "score_quartiles": np.percentile(fps[:, 1], [0, 25, 50, 75, 100]).round(3).tolist() if len(fps) else [],
        },
        "rows": [(r.threshold, r.tp, r.fp, r.fn, round(r.recall, 4), round(r.precision, 4)) for r in rows],
    }
    for target in (0.95, 0.98):
        row = recall_at_precision(rows, target)
        out[f"recall_at_precision_{target}"] = None if row is None else {"threshold": row.threshold,
                                                                         "recall": row.recall,
                                                                         "precision": row.precision}
    large = [b for b in out["by_size"] if b["low_px"] >= LARGE_PX]
    out["large_found_as_one_box"] = (sum(b["as_one_box"] for b in large), sum(b["aircraft"] for b in large))
    return out


def dataclass_row(item) -> dict:
    return {k: getattr(item, k) for k in item.__dataclass_fields__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the bundled CPU default, INT8 window graph)")
    parser.add_argument("--scenes", nargs="*", default=[], help="whole-scene validation set folders or files")
    parser.add_argument("--demo", action="store_true", help="also the make-demo and seed-11 scenes")
    parser.add_argument("--bench-scene", help="make bench's GF-1-sized scene (truth beside it)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    detector = load_detector(args.model, min_score=MIN_SCORE, precision="auto")
    config = DetectConfig(model_path=args.model)
    threshold = float(detector.config.score_threshold)
    result: dict = {"model": args.model or "bundled", "model_threshold": threshold}
    groups: dict[str, list[SceneRun]] = {}
    for path in scene_paths(args.scenes) if args.scenes else []:
        run = run_scene(path, detector, config)
        groups.setdefault("cluttered" if "clutter" in Path(path).name else "smooth", []).append(run)
        print(f"{Path(path).name}: {run.seconds:.0f} s", flush=True)
    if args.bench_scene:
        groups["bench"] = [run_scene(args.bench_scene, detector, config)]
    if groups:
        groups["whole_scene_set"] = [run for key in ("smooth", "cluttered") for run in groups.get(key, [])]
    with tempfile.TemporaryDirectory() as tmp:
        if args.demo:
            for name, seed in (("demo", 7), ("seed11", 11)):
                path = Path(tmp) / f"{name}.tif"
                write_scene_geotiff(path, 2048, 2048, seed=seed, n_airports=2)
                groups[name] = [run_scene(str(path), detector, config)]
        for name, runs in groups.items():
            result[name] = summary(runs, threshold)
            print(name, json.dumps({k: result[name][k] for k in ("model_threshold", "best_f1",
                                                                   "recall_at_precision_0.95",
                                                                   "large_found_as_one_box")}), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
