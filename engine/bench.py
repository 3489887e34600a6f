"""`python -m engine.bench`: a GF-1-sized generated scene through each speed lever on its own and all
together (gated, and --no-gate for the baseline and the fastest), time, memory and detection agreement.

Each detection run happens in a fresh process so its peak resident memory is its own; the scene and
the model variants are made once and cached (out/bench/ is git-ignored).
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

from engine.bench_report import NO_GATE_SUFFIX, agreement, found_truth, markdown_table, summarise
from engine.cli.arg_types import positive_int
from engine.errors import R2cnnError

GF1_HEIGHT_PX, GF1_WIDTH_PX = 18000, 18192
BASELINE = "fp32-patch"
# configuration -> (model variant, nodata pre-screen, run options overriding the command line's):
# the baseline is the pipeline before the levers; each lever alone; then all of them.
CONFIGS = {
    "fp32-patch": ("fp32", False, {}),
    "prescreen": ("fp32", True, {}),
    "int8-patch": ("int8", False, {}),
    "fp32-window": ("window", False, {}),
    "int8-window": ("window.int8", True, {}),  # every lever at once
    # ONNX Runtime and size tuning, on request (--configs): measured for the README, not by default
    "fp32-patch-batch1": ("fp32", False, {"batch_size": 1}),
    "fp32-patch-batch8": ("fp32", False, {"batch_size": 8}),
    "fp32-patch-1thread": ("fp32", False, {"threads": 1}),
    "int8-window-2x2": ("window.int8", True, {"window_patches": 2}),
    "int8-window-4x4": ("window.int8", True, {"window_patches": 4}),
    "int8-window-nospin": ("window.int8", True, {"spinning": False}),
    "int8-window-parallel": ("window.int8", True, {"parallel": True}),
}
DEFAULT_CONFIGS = ("fp32-patch", "prescreen", "int8-patch", "fp32-window", "int8-window")
DEFAULT_NO_GATE = ("fp32-patch", "int8-window")


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


def parse_configs(text: str) -> list[str]:
    """Comma-separated configuration names (see CONFIGS)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown configuration(s) {unknown}; known: {', '.join(CONFIGS)}")
    return names


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
    """One detection run (in its own process): stats, wall time, patches/s, the aircraft it found."""
    from engine.config import DetectConfig
    from engine.pipeline.detect import detect_raster
    from engine.pipeline.scene_recall import match_scene
    from engine.synthetic.scene_generator import read_truth

    tuning = {k: options[k] for k in ("threads", "spinning", "parallel") if options.get(k) is not None}
    config = DetectConfig(
        model_path=options["model"],
        device=options["device"],
        batch_size=options["batch_size"],
        use_gate=use_gate,
        window_patches=options["window_patches"],
        prescreen=options["prescreen"],
        gate_threshold=options.get("gate_threshold"),
        extra=tuning,
    )
    started = time.perf_counter()
    result = detect_raster(scene_path, config)
    wall = time.perf_counter() - started
    stats = result.stats.to_dict()
    truth = read_truth(scene_path).boxes_raster_px
    match = match_scene(result.boxes_raster_px, result.scores, truth)
    computed = stats["patches_total"] - stats["patches_skipped_nodata"]
    return {
        "wall_s": round(wall, 2),
        "patches_per_s": round(stats["patches_total"] / wall, 2),
        "network_patches_per_s": round(computed / max(stats["stage_seconds"]["network"], 1e-9), 2),
        "recall_iou50": round(match.recall, 4),
        "precision_iou50": round(match.precision, 4),
        "true_aircraft": match.true_count,
        "found_truth": sorted(found_truth(result.boxes_raster_px, result.scores, truth)),
        **stats,
    }


def validation_ap50(model_path: str) -> float | None:
    """VOC AP50 on the fixed Airbus validation split, as `r2cnn evaluate` reports it (None: no dataset)."""
    from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT, load_image, read_annotations, validation_ids
    from engine.evaluation.evaluate import evaluate_detector
    from engine.evaluation.metrics import MIN_SCORE
    from engine.runtime import load_detector

    if not DEFAULT_AIRBUS_ROOT.is_dir():
        return None
    detector = load_detector(model_path, device="cpu", min_score=MIN_SCORE)
    annotations = read_annotations(DEFAULT_AIRBUS_ROOT)
    images = [
        load_image(DEFAULT_AIRBUS_ROOT, i, gsd_m=detector.config.gsd_m, annotations=annotations)
        for i in validation_ids()
    ]
    report = evaluate_detector(detector, images, float(detector.config.gate_threshold), with_coco=False)
    return round(float(report.detection.ap50), 4)


def isolated(function, *args):
    """function(*args) in a fresh spawned process: its peak RSS is not inflated by anything before."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(GF1_HEIGHT_PX, GF1_WIDTH_PX),
        help="HEIGHTxWIDTH or a side in px (default: GF-1, 18000x18192)",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--repeat", type=positive_int, default=1,
        help="rounds over all configurations; times are the median per configuration (default 1)",
    )
    parser.add_argument("--airports", type=int, default=4)
    parser.add_argument("--model", help="fp32 per-patch ONNX model (default: the bundled one)")
    parser.add_argument("--checkpoint", help="its training checkpoint, for the window graph (default: MODEL.pt)")
    parser.add_argument(
        "--configs",
        type=parse_configs,
        default=list(DEFAULT_CONFIGS),
        help=f"comma-separated configurations (default: {','.join(DEFAULT_CONFIGS)}; also: "
        f"{', '.join(n for n in CONFIGS if n not in DEFAULT_CONFIGS)})",
    )
    parser.add_argument(
        "--no-gate-for",
        type=lambda t: [n for n in t.split(",") if n],
        default=list(DEFAULT_NO_GATE),
        help="configurations also run with --no-gate (default: fp32-patch,int8-window)",
    )
    parser.add_argument("--gated-only", action="store_true", help="no --no-gate runs at all")
    parser.add_argument(
        "--gate-threshold",
        type=float,
        help="override the model's gate threshold (e.g. 1.01: no patch reaches the detector, the trunk + gate "
        "cost alone)",
    )
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--batch-size", type=int, default=4, help="patches per call on the per-patch path")
    parser.add_argument("--window-patches", type=int, default=3, help="patches per window side (default 3)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    parser.add_argument("--no-spinning", action="store_true", help="ONNX Runtime threads sleep when idle")
    parser.add_argument("--no-ap", action="store_true", help="skip the validation AP50 of each model variant")
    parser.add_argument("--out-dir", default="out/bench", help="cache and report folder (default out/bench)")
    parser.add_argument("--json", help="report path (default: OUT_DIR/bench_HxW.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    height, width = args.size
    configs = args.configs if BASELINE in args.configs else [BASELINE, *args.configs]
    try:
        base = _base_model(args.model, args.device)
    except R2cnnError as exc:  # a missing or bad model fails now, not after generating the scene
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from engine.bench_variants import default_checkpoint, resolve_variants

    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint(base)
    wanted = sorted({CONFIGS[name][0] for name in configs})
    try:  # in its own process too: quantizing takes GBs, which a forked run would report as its own peak
        variants = isolated(resolve_variants, base, wanted, out_dir / "models", checkpoint)
    except (R2cnnError, ValueError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    scene = scene_for(out_dir, height, width, args.seed, args.airports)
    runs: dict[str, dict] = {}
    no_gate = [] if args.gated_only else [n for n in args.no_gate_for if n in configs]
    plan = [(name, True) for name in configs] + [(name, False) for name in no_gate]
    # Rounds over the whole plan (not one configuration N times in a row): a slow spell of a shared
    # machine then lands on every configuration alike, and the median per configuration is reported.
    for round_index in range(args.repeat):
        for name, use_gate in plan:
            variant, prescreen, overrides = CONFIGS[name]
            if variant not in variants:
                continue
            label = name if use_gate else name + NO_GATE_SUFFIX
            options = {**_options(args, str(variants[variant]), prescreen), **overrides}
            print(f"{label}: detecting on {scene.name} ({variants[variant].name}), round {round_index + 1} of "
                  f"{args.repeat} ...", file=sys.stderr, flush=True)
            try:
                result = isolated(run_once, str(scene), use_gate, options)
            except R2cnnError as exc:
                print(f"bench: error: {exc}", file=sys.stderr)
                return 2
            settings = {"variant": variant, "settings": {"prescreen": prescreen, **overrides}}
            runs[label] = median_of_rounds(runs.get(label), {**settings, **result})
            _say(label, result)
    _add_agreement(runs)
    ap50 = {} if args.no_ap else {v: isolated(validation_ap50, str(p)) for v, p in variants.items()}
    summary = summarise(runs, height, width, (height, width) == (GF1_HEIGHT_PX, GF1_WIDTH_PX), ap50)
    report = {
        "scene": str(scene),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "models": {v: str(p) for v, p in variants.items()},
        "options": _options(args, None, None),
        "validation_ap50": ap50,
        "runs": runs,
        "summary": summary,
    }
    json_path = Path(args.json or out_dir / f"bench_{height}x{width}.json")
    json_path.write_text(json.dumps(report, indent=2))
    print(markdown_table(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))
    print(f"report: {json_path}", file=sys.stderr)
    return 0


def median_of_rounds(previous: dict | None, latest: dict) -> dict:
    """One configuration's record over its rounds: the first round's detections and stats, wall time and
    patches/s as the median of every round (all rounds listed), peak memory the highest seen."""
    import statistics

    if previous is None:
        return {**latest, "wall_s_rounds": [latest["wall_s"]]}
    rounds = [*previous["wall_s_rounds"], latest["wall_s"]]
    wall = round(statistics.median(rounds), 2)
    return {
        **previous,
        "wall_s": wall,
        "wall_s_rounds": rounds,
        "patches_per_s": round(previous["patches_total"] / wall, 2),
        "peak_rss_mb": max(previous["peak_rss_mb"], latest["peak_rss_mb"]),
    }


def _base_model(model: str | None, device: str) -> Path:
    """The fp32 per-patch model the variants derive from; loading it checks it is a valid r2cnn model."""
    from engine.runtime import bundled_model_path, load_detector

    load_detector(model, device=device)
    return Path(model) if model else bundled_model_path()


def _options(args, model: str | None, prescreen: bool | None) -> dict:
    return {
        "model": model,
        "device": args.device,
        "batch_size": args.batch_size,
        "window_patches": args.window_patches,
        "prescreen": prescreen,
        "threads": args.threads or None,
        "spinning": False if args.no_spinning else None,
        "parallel": None,
        "gate_threshold": args.gate_threshold,
    }


def _add_agreement(runs: dict) -> None:
    """Each run against the baseline with the same gating: were the same true aircraft found?"""
    for label, run in runs.items():
        reference = runs.get(BASELINE + (NO_GATE_SUFFIX if label.endswith(NO_GATE_SUFFIX) else ""))
        if reference is not None:
            run["agreement"] = agreement(set(run["found_truth"]), set(reference["found_truth"]))
    for run in runs.values():
        run["found_truth_count"] = len(run.pop("found_truth"))


def _say(label: str, run: dict) -> None:
    print(
        f"{label}: {run['wall_s']} s, {run['patches_per_s']} patches/s, {run['patches_total']} patches "
        f"({run['patches_skipped_nodata']} skipped, {run['patches_passed_gate']} detected), "
        f"{run['detections']} aircraft, recall {run['recall_iou50']}, peak {run['peak_rss_mb']} MB, {run['device']}",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
