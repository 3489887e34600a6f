"""`r2cnn validation-scenes OUTDIR`: the whole-scene validation set (real airports in GF-1-sized scenes)."""

from __future__ import annotations

import os

from engine.cli.arg_types import non_negative_int
from engine.errors import CliError

DEFAULT_BITS = (10, 12)
DEFAULT_CLUTTER = (1.0, 4.0)  # the default land, and land with four times its roads, fields and towns


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "validation-scenes",
        help="write the whole-scene validation set: the validation airports pasted into GF-1-sized scenes",
        description="Writes one uint16 GeoTIFF per bit depth (nodata margin, textured ground, clouds and white "
        "roofs) with the Airbus validation images pasted in as raw sensor values, and their true boxes as "
        "<scene>.boxes.csv. `r2cnn evaluate --scenes OUTDIR` scores a model on them. Same arguments, same files.",
    )
    parser.add_argument("output", metavar="OUTDIR", help="folder to write the scenes into (created)")
    parser.add_argument("--dataset", metavar="DIR", help="Airbus-form folder (default: ../shared/datasets/...)")
    parser.add_argument(
        "--bits", default=",".join(map(str, DEFAULT_BITS)), help="sensor bit depths, one scene each (default 10,12)"
    )
    parser.add_argument("--width", type=int, default=18000, help="columns (default 18000, GF-1)")
    parser.add_argument("--height", type=int, default=18192, help="rows (default 18192, GF-1)")
    parser.add_argument(
        "--clutter", default=",".join(f"{c:g}" for c in DEFAULT_CLUTTER),
        help="land clutter levels, one scene per level and bit depth (1: default land; default %(default)s)",
    )
    parser.add_argument("--clouds", type=non_negative_int, default=5, help="clouds per scene (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="layout seed (default 2026)")
    parser.add_argument("--overwrite", action="store_true", help="replace scenes that exist")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Load the validation split at 2 m, write one scene per bit depth."""
    from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT, DatasetError, load_image, split_ids
    from engine.synthetic.validation_scenes import Airport, build_scene

    try:
        bits = [int(b) for b in args.bits.split(",")]
    except ValueError:
        bits = []
    if not bits or any(b not in (10, 11, 12) for b in bits):
        raise CliError(f"--bits takes 10, 11 or 12 separated by commas, got {args.bits!r}")
    try:
        clutters = [float(c) for c in args.clutter.split(",")]
    except ValueError:
        clutters = []
    if not clutters or any(not 0 <= c <= 10 for c in clutters):
        raise CliError(f"--clutter takes levels from 0 to 10 separated by commas, got {args.clutter!r}")
    if min(args.width, args.height) < 2048:
        raise CliError("--width and --height must be at least 2048 px (the airports are 640 px each)")
    root = args.dataset or str(DEFAULT_AIRBUS_ROOT)
    try:
        airports = [
            Airport(item.image, item.boxes_px)
            for item in (load_image(root, i, gsd_m=2.0) for i in split_ids("val", root))
        ]
    except (DatasetError, OSError) as exc:
        raise CliError(str(exc)) from exc
    os.makedirs(args.output, exist_ok=True)
    for clutter in clutters:
        for depth in bits:
            path = os.path.join(args.output, scene_name(depth, clutter, args.seed))
            if os.path.exists(path) and not args.overwrite:
                print(f"kept {path} (exists; --overwrite to rebuild)")
                continue
            try:
                boxes = build_scene(
                    path, airports, args.seed, depth, (args.height, args.width), clouds=args.clouds, clutter=clutter
                )
            except ValueError as exc:
                raise CliError(str(exc)) from exc
            print(f"wrote {path}: {len(boxes)} aircraft from {len(airports)} validation images, {depth}-bit, "
                  f"clutter {clutter:g}")
    return 0


def scene_name(bits: int, clutter: float, seed: int) -> str:
    """File name of one scene; clutter 1 keeps the names the set had before clutter levels existed."""
    level = "" if clutter == 1.0 else f"_clutter{clutter:g}"
    return f"gf1_val_{bits}bit{level}_seed{seed}.tif"
