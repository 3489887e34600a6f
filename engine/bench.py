"""`python -m engine.bench`: a GF-1-sized generated scene, gated vs --no-gate in one run, time and memory.

Each detection run happens in a fresh process so its peak resident memory is its own; the scene is
generated once and cached (out/bench/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from engine.errors import R2cnnError

GF1_HEIGHT_PX, GF1_WIDTH_PX = 18000, 18192
PAPER_SECONDS = {"gated": 29.4, "no_gate": 64.7}  # R2-CNN Table VI, one GF-1 scene on a Titan X
PEAK_RSS_TARGET_MB = 2048.0
SPEEDUP_TARGET = 2.0


def parse_size(text: str) -> tuple[int, int]:
    """'18000x18192' (height x width) or '4096' (square)."""
    parts = text.lower().split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH or a side, got {text!r}") from exc
    if len(sizes) == 1:
        sizes *= 2
    if len(sizes) != 2 or min(sizes) < 256:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH with sides >= 256, got {text!r}")
    return sizes[0], sizes[1]


def scene_for(out_dir: Path, height: int, width: int, seed: int, airports: int) -> Path:
    """The cached benchmark scene (generated block by block on first use)."""
    from engine.synthetic.scene_generator import truth_path, write_scene_geotiff

    path = out_dir / f"scene_{height}x{width}_seed{seed}_a{airports}.tif"
    if not (path.is_file() and truth_path(path).is_file()):
        print(f"generating {path} (once) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        write_scene_geotiff(path, height, width, seed=seed, n_airports=airports)
        print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


def run_once(scene_path: str, use_gate: bool, options: dict) -> dict:
    """One detection run (in its own process): stats, wall time, patches/s, recall against the truth."""
    from engine.config import DetectConfig
    from engine.pipeline.detect import detect_raster
    from engine.pipeline.scene_recall import match_scene
    from engine.synthetic.scene_generator import read_truth

    config = DetectConfig(
        model_path=options["model"],
        device=options["device"],
        batch_size=options["batch_size"],
        use_gate=use_gate,
        extra={"threads": options["threads"]} if options["threads"] else {},
    )
    started = time.perf_counter()
    result = detect_raster(scene_path, config)
    wall = time.perf_counter() - started
    stats = result.stats.to_dict()
    match = match_scene(result.boxes_raster_px, result.scores, read_truth(scene_path).boxes_raster_px)
    computed = stats["patches_total"] - stats["patches_skipped_nodata"]
    return {
        "wall_s": round(wall, 2),
        "patches_per_s": round(stats["patches_total"] / wall, 2),
        "network_patches_per_s": round(computed / max(stats["stage_seconds"]["network"], 1e-9), 2),
        "recall_iou50": round(match.recall, 4),
        "precision_iou50": round(match.precision, 4),
        "true_aircraft": match.true_count,
        **stats,
    }


def run_isolated(scene_path: str, use_gate: bool, options: dict) -> dict:
    """run_once in a fresh spawned process: its peak RSS is not inflated by generation or the other run."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_once, scene_path, use_gate, options).result()


def summarise(runs: dict, height: int, width: int) -> dict:
    """Ratios and targets; the paper's figures for a full GF-1 scene."""
    summary: dict = {"scene_px": [height, width]}
    if "gated" in runs and "no_gate" in runs:
        summary["speedup_gated_vs_no_gate"] = round(runs["no_gate"]["wall_s"] / runs["gated"]["wall_s"], 2)
        summary["speedup_target"] = SPEEDUP_TARGET
        summary["paper_speedup"] = round(PAPER_SECONDS["no_gate"] / PAPER_SECONDS["gated"], 2)
    peaks = [r["peak_rss_mb"] for r in runs.values() if r.get("peak_rss_mb") is not None]
    summary["peak_rss_mb_max"] = max(peaks) if peaks else None
    summary["peak_rss_within_target"] = bool(peaks) and max(peaks) <= PEAK_RSS_TARGET_MB
    if (height, width) == (GF1_HEIGHT_PX, GF1_WIDTH_PX) and "gated" in runs:
        summary["ratio_to_paper_gated"] = round(runs["gated"]["wall_s"] / PAPER_SECONDS["gated"], 3)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(GF1_HEIGHT_PX, GF1_WIDTH_PX),
        help="HEIGHTxWIDTH or a side in px (default: GF-1, 18000x18192)",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--airports", type=int, default=4)
    parser.add_argument("--model", help="ONNX model (default: the bundled one)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    parser.add_argument("--gated-only", action="store_true", help="skip the --no-gate run")
    parser.add_argument("--out-dir", default="out/bench", help="cache and report folder (default out/bench)")
    parser.add_argument("--json", help="report path (default: OUT_DIR/bench_HxW.json)")
    args = parser.parse_args(argv)
    height, width = args.size
    try:  # a missing or bad model fails now, not after generating the scene
        from engine.runtime import load_detector

        load_detector(args.model, device=args.device)
    except R2cnnError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = scene_for(out_dir, height, width, args.seed, args.airports)
    options = {
        "model": args.model,
        "device": args.device,
        "batch_size": args.batch_size,
        "threads": args.threads,
    }
    runs: dict[str, dict] = {}
    for name, use_gate in (("gated", True), ("no_gate", False)):
        if name == "no_gate" and args.gated_only:
            continue
        print(f"{name}: detecting on {scene.name} ...", file=sys.stderr, flush=True)
        try:
            runs[name] = run_isolated(str(scene), use_gate, options)
        except R2cnnError as exc:
            print(f"bench: error: {exc}", file=sys.stderr)
            return 2
        run = runs[name]
        print(
            f"{name}: {run['wall_s']} s, {run['patches_per_s']} patches/s, {run['patches_total']} patches "
            f"({run['patches_skipped_nodata']} skipped, {run['patches_passed_gate']} detected), "
            f"{run['detections']} aircraft, recall {run['recall_iou50']}, peak {run['peak_rss_mb']} MB, "
            f"{run['device']}",
            file=sys.stderr,
            flush=True,
        )
    report = {
        "scene": str(scene),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "options": options,
        "runs": runs,
        "summary": summarise(runs, height, width),
    }
    json_path = Path(args.json or out_dir / f"bench_{height}x{width}.json")
    json_path.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["summary"], indent=2))
    print(f"report: {json_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
