"""`r2cnn detect RASTER [RASTER ...] -o OUT.gpkg`: whole scenes -> one GeoPackage of aircraft polygons."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from engine.atomic_output import atomic_output
from engine.cli.arg_types import positive_float, positive_int
from engine.config import DetectConfig
from engine.contract import BACKENDS, DEVICES, PRECISIONS
from engine.errors import CliError, ModelError, OutputError, R2cnnError


def register(subparsers) -> None:
    """Add the subcommand and its options (every option of the pipeline issue)."""
    parser = subparsers.add_parser(
        "detect",
        help="detect aircraft in rasters -> GeoPackage",
        description="Detect aircraft in whole rasters; writes one GeoPackage (layer 'aircraft').",
    )
    parser.add_argument("rasters", nargs="+", metavar="RASTER", help="input raster(s), any GDAL format")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.gpkg", help="output GeoPackage")
    add_model_options(parser)
    parser.add_argument(
        "--tile-size", type=positive_int, help="patch size in model pixels (default: the model's)"
    )
    parser.add_argument("--overlap", type=_overlap, help="patch overlap, 0..<1 (default: the model's, 0.2)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=4, help="patches per network call (default 4)"
    )
    parser.add_argument(
        "--window-patches",
        type=positive_int,
        default=3,
        help="with a window-graph model: patches per window side, the trunk running once per window "
        "(default 3; larger windows need more memory when the gate passes most patches; 1: one patch at a time)",
    )
    parser.add_argument(
        "--no-prescreen",
        action="store_true",
        help="read every patch, even those the decimated nodata mask shows empty",
    )
    parser.add_argument(
        "--bands", type=_bands, metavar="B[,G,B]", help="1-based band(s) to use: 1 grey or 3 (R,G,B)"
    )
    parser.add_argument(
        "--gsd", type=positive_float, metavar="METRES", help="ground resolution, overrides the file"
    )
    parser.add_argument(
        "--stretch",
        choices=("percentile", "divide4", "none"),
        default="percentile",
        help="non-8-bit data: scene-wide percentile stretch (default), value/4 for 10-bit data, or none",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.gpkg if it exists")
    parser.add_argument(
        "--stats-json", metavar="PATH", help="write stage times, patch counts and memory here"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary (warnings only)"
    )
    parser.set_defaults(func=run)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Model, thresholds, gate and device: shared with `r2cnn demo`."""
    parser.add_argument("--model", metavar="MODEL.onnx", help="model file (default: the bundled model)")
    parser.add_argument(
        "--score-threshold", type=_fraction, help="keep boxes scoring >= this (default: the model's)"
    )
    parser.add_argument(
        "--gate-threshold", type=_fraction, help="patch gate threshold (default: the model's)"
    )
    parser.add_argument(
        "--no-gate", action="store_true", help="run the detector on every patch (no classifier gate)"
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="bundled model only: int8 (INT8 window graph, faster on CPU; README Performance), "
        "fp32 (the reference graph); auto (default): int8 on CPU, fp32 on CUDA",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="onnx", help="default: onnx")


def detect_config(args) -> DetectConfig:
    """The parsed options as the pipeline's frozen configuration."""
    return DetectConfig(
        model_path=args.model,
        backend=args.backend,
        device=args.device,
        precision=args.precision,
        score_threshold=args.score_threshold,
        gate_threshold=args.gate_threshold,
        use_gate=not args.no_gate,
        tile_size=getattr(args, "tile_size", None),
        overlap=getattr(args, "overlap", None),
        batch_size=getattr(args, "batch_size", 4),
        bands=getattr(args, "bands", None),
        gsd_m=getattr(args, "gsd", None),
        stretch=getattr(args, "stretch", "percentile"),
        window_patches=getattr(args, "window_patches", 3),
        prescreen=not getattr(args, "no_prescreen", False),
    )


def run(args) -> int:
    """Check every input and the output first, load the model once, detect, then write atomically."""
    from engine.pipeline.detect import detect_raster
    from engine.pipeline.gpkg_writer import check_output_path, write_geopackage
    from engine.runtime import load_detector

    config = detect_config(args)
    say = _printer(args.quiet)
    try:
        check_output_path(args.output, args.overwrite)
        if args.stats_json:
            check_output_path(args.stats_json, overwrite=True)
        if config.tile_size is not None and config.tile_size < 32:
            raise CliError("--tile-size must be at least 32 px")
        _check_rasters(args.rasters, config)
        detector = load_detector(
            config.model_path, config.backend, config.device, config.score_threshold,
            precision=config.precision,
        )
        _check_tile_size(detector, config)
        model_name = config.model_path or "bundled " + os.path.basename(getattr(detector, "model_path", ""))
        say(f"model {model_name} on {detector.device}" + _providers(detector))
        results = []
        for path in args.rasters:
            with _ProgressBar(path, args.quiet) as report:
                results.append(
                    detect_raster(path, config, progress=report, log=_warn_or_say(say), detector=detector)
                )
        write_geopackage(results, args.output, overwrite=args.overwrite)
        if args.stats_json:
            _write_json(
                args.stats_json, {"rasters": [r.stats.to_dict() for r in results], "output": args.output}
            )
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    for result in results:
        seconds = result.stats.stage_seconds.get("total", 0.0)
        say(
            f"{result.source}: {len(result.scores)} aircraft "
            f"({seconds:.1f} s, {result.stats.patches_total} patches)"
        )
    say(f"wrote {args.output}")
    return 0


def _check_rasters(paths: list[str], config: DetectConfig) -> None:
    """Open every raster before any compute: bad inputs fail in seconds, not after the first scene."""
    from engine.pipeline.raster_reader import RasterScene

    georeferenced = set()
    for path in paths:
        with RasterScene(path, 1.0, config.bands, config.gsd_m, config.stretch) as scene:
            georeferenced.add(scene.georeferenced)
    if len(georeferenced) > 1:
        raise OutputError("cannot mix georeferenced and non-georeferenced rasters in one GeoPackage")


def _check_tile_size(detector, config: DetectConfig) -> None:
    """A model exported at a fixed patch size takes only that size."""
    fixed = getattr(detector, "patch_size", None)
    if config.tile_size is not None and fixed is not None and config.tile_size != fixed:
        raise ModelError(
            f"this model takes {fixed} px patches; --tile-size {config.tile_size} is not possible"
        )


def _providers(detector) -> str:
    providers = getattr(detector, "providers", None)
    return f" ({', '.join(providers)})" if providers else ""


def _printer(quiet: bool):
    """Informational lines on stderr (stdout stays clean for scripts), silenced by --quiet."""
    return (lambda _message: None) if quiet else (lambda message: print(message, file=sys.stderr))


def _warn_or_say(say):
    """Warnings always reach the user; other log lines only without --quiet."""

    def log(message: str) -> None:
        if message.startswith("warning:"):
            print(message, file=sys.stderr)
        else:
            say(message)

    return log


class _ProgressBar:
    """tqdm bar (0..100) on a terminal; nothing when quiet or piped."""

    def __init__(self, path: str, quiet: bool):
        self._bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=100,
                desc=os.path.basename(path),
                unit="%",
                leave=True,
                bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}<{remaining}]",
            )

    def __enter__(self):
        return self._update

    def _update(self, percent: float) -> None:
        if self._bar is not None:
            self._bar.update(max(0.0, percent - self._bar.n))

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()


def _write_json(path: str, payload: dict) -> None:
    """Atomic like the GeoPackage."""
    with atomic_output(path, suffix=".json") as tmp, open(tmp, "w") as handle:
        json.dump(payload, handle, indent=2, default=_json_default)


def _json_default(value):
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _overlap(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _bands(text: str) -> tuple[int, ...]:
    try:
        bands = tuple(int(part) for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected band numbers like 1 or 3,2,1, got {text!r}") from exc
    if len(bands) not in (1, 3) or min(bands) < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or 3 band numbers >= 1, got {text!r}")
    return bands
