"""`r2cnn generate OUT.tif`: a GF-1-like synthetic scene with known aircraft, written block by block."""

from __future__ import annotations

import argparse

from engine.cli.arg_types import non_negative_int, positive_float
from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic GF-1-like scene (GeoTIFF) and its true aircraft boxes",
        description="Writes a tiled, compressed uint16 GeoTIFF (nodata 0) of procedural ground, airports and "
        "aircraft, and the true boxes in raster pixels as OUT.tif.boxes.csv.",
    )
    parser.add_argument("output", metavar="OUT.tif", help="GeoTIFF to write")
    parser.add_argument("--width", type=_side, default=4096, help="columns (default 4096)")
    parser.add_argument("--height", type=_side, default=4096, help="rows (default 4096)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed: the same seed gives the same scene")
    parser.add_argument("--airports", type=non_negative_int, default=2, help="airports to place (default 2)")
    parser.add_argument(
        "--gsd", type=positive_float, default=2.0, help="ground resolution in metres (default 2.0)"
    )
    parser.add_argument(
        "--bands", type=int, choices=(1, 2, 3, 4), default=1, help="bands (default 1, panchromatic)"
    )
    parser.add_argument(
        "--dtype", choices=("uint16", "uint8"), default="uint16", help="default uint16 (10-bit range)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.tif if it exists")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Write the scene and its truth; print where they are."""
    from engine.errors import R2cnnError
    from engine.synthetic.scene_generator import truth_path, write_scene_geotiff

    try:
        truth = write_scene_geotiff(
            args.output,
            args.height,
            args.width,
            seed=args.seed,
            gsd_m=args.gsd,
            n_airports=args.airports,
            bands=args.bands,
            dtype=args.dtype,
            overwrite=args.overwrite,
        )
    except (R2cnnError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    count = len(truth.boxes_raster_px)
    print(f"scene: {truth.path} ({args.width} x {args.height} px, {args.gsd:g} m, {count} aircraft)")
    print(f"truth: {truth_path(truth.path)}")
    return 0


def _side(text: str) -> int:
    """A raster side of at least 16 px."""
    value = int(text)
    if value < 16:
        raise argparse.ArgumentTypeError(f"must be at least 16 px, got {value}")
    return value




