"""`python -m benchmarks.bench`: a GF-1-sized generated scene through each speed lever on its own and all
together, in ONNX Runtime and OpenVINO (gated, and --no-gate for the plain tiled pipeline and the fastest):
time, where it went, memory and detection agreement.

Each detection run happens in a fresh process so its peak resident memory is its own; the scene and
the model variants are made once and cached (out/bench/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks.cascade_report import cascade_rows, cascade_table, verdict
from benchmarks.cluttered_scene import cluttered_scene_for
from benchmarks.configs import (
    BASELINE,
    CASCADE_CONFIGS,
    CONFIGS,
    DEFAULT_CONFIGS,
    DEFAULT_NO_GATE,
    NO_CASCADE,
    PLAIN_TILING,
)
from benchmarks.report import NO_GATE_SUFFIX, agreement, ap50_key, markdown_table, summarise
from benchmarks.runs import isolated, median_of_rounds, run_once, scene_for, validation_ap50
from engine.atomic_output import atomic_output
from engine.cli.arg_types import positive_int
from engine.contract import DEVICES, GATE_ONLY, ONNXRUNTIME
from engine.errors import R2cnnError

GF1_HEIGHT_PX, GF1_WIDTH_PX = 18000, 18192


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


SCENE_KINDS = ("smooth", "cluttered")


def parse_scenes(text: str) -> list[str]:
    """Comma-separated scene kinds: smooth (today's land), cluttered (towns, water, clouds)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(n not in SCENE_KINDS for n in names):
        raise argparse.ArgumentTypeError(f"scenes are {', '.join(SCENE_KINDS)}, got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
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
    parser.add_argument(
        "--scenes", type=parse_scenes, default=list(SCENE_KINDS),
        help="smooth: every configuration; cluttered (3x the towns and roads, water, clouds): the cascade's "
        f"comparison only ({', '.join(CASCADE_CONFIGS)}, {NO_CASCADE} with --no-gate). Default: both",
    )
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
        help=f"configurations also run with --no-gate (default: {','.join(DEFAULT_NO_GATE)}; {PLAIN_TILING} always, "
        "the plain tiled pipeline the ratios refer to)",
    )
    parser.add_argument("--gated-only", action="store_true", help="no --no-gate runs at all")
    parser.add_argument(
        "--no-baseline", action="store_true",
        help=f"do not add {BASELINE} (and its --no-gate run) to --configs: a quick cascade comparison",
    )
    parser.add_argument(
        "--gate-threshold",
        type=float,
        help=f"override the model's gate threshold (e.g. {GATE_ONLY}: no patch reaches the detector, the "
        "trunk + gate cost alone)",
    )
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--batch-size", type=int, default=4, help="patches per call on the per-patch path")
    parser.add_argument("--window-patches", type=int, default=3, help="patches per window side (default 3)")
    parser.add_argument("--threads", type=int, default=0, help="runtime intra-op threads (0: all cores)")
    parser.add_argument("--no-spinning", action="store_true", help="ONNX Runtime threads sleep when idle")
    parser.add_argument("--no-ap", action="store_true", help="skip the validation AP50 of each model variant")
    parser.add_argument("--out-dir", default="out/bench", help="cache and report folder (default out/bench)")
    parser.add_argument("--json", help="report path (default: OUT_DIR/bench_HxW.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    height, width = args.size
    configs = args.configs if BASELINE in args.configs or args.no_baseline else [BASELINE, *args.configs]
    try:
        base = _base_model(args.model, args.device)
    except R2cnnError as exc:  # a missing or bad model fails now, not after generating the scene
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from benchmarks.variants import default_checkpoint, resolve_variants

    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint(base)
    cluttered = list(CASCADE_CONFIGS) if "cluttered" in args.scenes else []
    wanted = sorted({CONFIGS[name].variant for name in [*configs, *cluttered]})
    try:  # in its own process too: quantizing takes GBs, which a forked run would report as its own peak
        variants = isolated(resolve_variants, base, wanted, out_dir / "models", checkpoint)
    except (R2cnnError, ValueError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    full_size = (height, width) == (GF1_HEIGHT_PX, GF1_WIDTH_PX)
    scenes: dict[str, dict] = {}
    for kind in args.scenes:
        make_scene = scene_for if kind == "smooth" else cluttered_scene_for
        scene = make_scene(out_dir, height, width, args.seed, args.airports)
        kind_configs = configs if kind == "smooth" else cluttered
        try:
            runs = _run_scene(args, scene, kind_configs, variants)
        except R2cnnError as exc:
            print(f"bench: error: {exc}", file=sys.stderr)
            return 2
        scenes[kind] = {"scene": str(scene), "runs": runs, "summary": summarise(runs, height, width, full_size)}
    used = sorted({(CONFIGS[n].variant, CONFIGS[n].runtime) for n in configs if CONFIGS[n].variant in variants})
    ap50 = {} if args.no_ap else {ap50_key(v, r): isolated(validation_ap50, str(variants[v]), r) for v, r in used}
    first = scenes[args.scenes[0]]
    runs, scene = first["runs"], first["scene"]
    summary = summarise(runs, height, width, full_size, ap50)
    rows = [row for kind, entry in scenes.items() for row in cascade_rows(kind, entry["runs"])]
    report = {
        "scene": str(scene),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "models": {v: str(p) for v, p in variants.items()},
        "options": _options(args, None, None),
        "validation_ap50": ap50,
        "runs": runs,
        "summary": summary,
        "scenes": scenes,
        "cascade": {"rows": rows, "verdict": verdict(rows)},
    }
    print(markdown_table(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))
    if rows:
        print(cascade_table(rows))
        print(json.dumps(report["cascade"]["verdict"], indent=2))
    json_path = Path(args.json or out_dir / f"bench_{height}x{width}.json")
    try:  # whole or not at all, like every output of the engine
        with atomic_output(json_path, suffix=".json") as tmp:
            Path(tmp).write_text(json.dumps(report, indent=2))
    except R2cnnError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {json_path}", file=sys.stderr)
    return 0


def _run_scene(args, scene: Path, configs: list[str], variants: dict) -> dict:
    """Every configuration (and its --no-gate run where asked) on one scene, in rounds; median per configuration."""
    runs: dict[str, dict] = {}
    no_gate_for = [PLAIN_TILING, *args.no_gate_for] if BASELINE in configs else [*args.no_gate_for]
    no_gate = [] if args.gated_only else [n for n in dict.fromkeys(no_gate_for) if n in configs]
    plan = [(name, True) for name in configs] + [(name, False) for name in no_gate]
    # Rounds over the whole plan (not one configuration N times in a row): a slow spell of a shared
    # machine then lands on every configuration alike, and the median per configuration is reported.
    for round_index in range(args.repeat):
        for name, use_gate in plan:
            chosen = CONFIGS[name]
            variant, prescreen, overrides = chosen.variant, chosen.prescreen, chosen.overrides
            if variant not in variants:
                continue
            label = name if use_gate else name + NO_GATE_SUFFIX
            options = {**_options(args, str(variants[variant]), prescreen), "runtime": chosen.runtime,
                       "cascade": chosen.cascade, **overrides}
            print(f"{label}: detecting on {scene.name} ({variants[variant].name}), round {round_index + 1} of "
                  f"{args.repeat} ...", file=sys.stderr, flush=True)
            result = isolated(run_once, str(scene), use_gate, options)
            settings = {"variant": variant, "settings": {"prescreen": prescreen, "runtime": chosen.runtime,
                                                         "cascade": chosen.cascade and use_gate}}
            settings["settings"].update(overrides)
            runs[label] = median_of_rounds(runs.get(label), {**settings, **result})
            _say(label, result)
    _add_agreement(runs)
    return runs


def _base_model(model: str | None, device: str) -> Path:
    """The fp32 per-patch model the variants derive from; loading it checks it is a valid r2cnn model."""
    from engine.runtime import bundled_model_path, load_detector

    load_detector(model, device=device, runtime=ONNXRUNTIME)
    return Path(model) if model else bundled_model_path()


def _options(args, model: str | None, prescreen: bool | None) -> dict:
    return {
        "model": model,
        "device": args.device,
        "batch_size": args.batch_size,
        "window_patches": args.window_patches,
        "prescreen": prescreen,
        "runtime": ONNXRUNTIME,
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
        f"{run['detections']} aircraft, recall {run['recall_iou50']}, peak {run['peak_rss_mb']} MB, "
        f"{run['device']} {run['runtime']} {run['precision']}",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
