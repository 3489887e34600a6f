"""`r2cnn detect RASTER [RASTER ...] -o OUT.gpkg`: whole scenes -> one vector file of aircraft polygons."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack

from engine.cli.arg_types import positive_float, positive_int
from engine.cli.detect_outputs import check_outputs, publish_outputs, unique_rasters
from engine.config import DetectConfig
from engine.contract import BACKENDS, DEVICES, PRECISIONS, RUNTIMES
from engine.errors import CliError, OutputError, R2cnnError
from engine.pipeline.raster_bands import STRETCH_MODES


def register(subparsers) -> None:
    """Add the subcommand and its options (every option of the pipeline issue)."""
    parser = subparsers.add_parser(
        "detect",
        help="detect aircraft in rasters -> GeoPackage",
        description="Detect aircraft in whole rasters; writes one vector file (layer 'aircraft'). Bad input, an "
        "existing output without --overwrite, or a raster far too coarse for aircraft: one line, exit 2, nothing "
        "written; SIGINT / SIGTERM: exit 130 / 143, nothing written.",
    )
    parser.add_argument(
        "rasters", nargs="+", metavar="RASTER", help="input raster(s), any GDAL format or path (/vsizip/... too)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT.gpkg",
        help="output file; its extension picks the format: .gpkg (GeoPackage), .shp, .geojson, .fgb, .csv (WKT)",
    )
    add_model_options(parser)
    add_scene_options(parser)
    parser.add_argument(
        "--threads", type=positive_int, metavar="N",
        help="inference threads (default: the cores this process may use); reading runs beside them",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT.gpkg and --stats-json if they exist (never an input)"
    )
    parser.add_argument(
        "--stats-json", metavar="PATH", help="write stage times, patch counts and memory here"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary (warnings only)"
    )
    parser.set_defaults(func=run)


def add_scene_options(parser) -> None:
    """Tiling, window graph, pre-screen, bands, gsd, stretch, force: every per-scene option, shared with
    `r2cnn detect-archive` (a parser or an argument group)."""
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
        choices=STRETCH_MODES,
        default=DetectConfig().stretch,
        help=f"non-8-bit data to 8 bits (default {DetectConfig().stretch}): local (percentiles over about "
        "2.5 km around each place, so clouds and roofs far away do not darken an airport), percentile (one "
        "scene-wide range), divide4 (value / 4, 10-bit data) or none; the summary says which ran",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="run a raster far coarser than aircraft need (under 3 px); the memory bound still holds",
    )


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
        "--no-gate", action="store_true",
        help="run the detector on every patch (no classifier gate, no cascade: the plain tiled pipeline)",
    )
    parser.add_argument(
        "--cascade", action=argparse.BooleanOptionalAction, default=DetectConfig().cascade,
        help="first look on a decimated view: the trunk runs only on the patches it passes (default: off until "
        "the shipped cascade is fitted, see the model card); --no-cascade runs the trunk everywhere",
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
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="library that runs an ONNX model: auto (default) is openvino on the CPU when installed (faster; "
        "README Performance), else onnxruntime, which also runs CUDA",
    )


def detect_config(args) -> DetectConfig:
    """The parsed options as the pipeline's frozen configuration."""
    return DetectConfig(
        model_path=args.model,
        backend=args.backend,
        device=args.device,
        runtime=getattr(args, "runtime", "auto"),
        precision=args.precision,
        score_threshold=args.score_threshold,
        gate_threshold=args.gate_threshold,
        use_gate=not args.no_gate,
        tile_size=getattr(args, "tile_size", None),
        overlap=getattr(args, "overlap", None),
        batch_size=getattr(args, "batch_size", 4),
        bands=getattr(args, "bands", None),
        gsd_m=getattr(args, "gsd", None),
        stretch=getattr(args, "stretch", DetectConfig().stretch),
        window_patches=getattr(args, "window_patches", 3),
        prescreen=not getattr(args, "no_prescreen", False),
        force=getattr(args, "force", False),
        cascade=getattr(args, "cascade", DetectConfig().cascade),
        extra={"threads": args.threads} if getattr(args, "threads", None) else {},
    )


def run(args) -> int:
    """Check every input, the outputs and each scene's plan first, load the model once, detect, then
    publish the outputs together (engine.cli.detect_outputs)."""
    from engine.pipeline.detect import detect_raster
    from engine.runtime import load_detector

    config = detect_config(args)
    say = _printer(args.quiet)
    log = _warn_or_say(say)
    try:
        rasters = unique_rasters(args.rasters, log)
        protect = [*rasters, *_model_files(config)]  # never an output, even with --overwrite
        check_outputs(args, protect, say)
        detector = load_detector(
            config.model_path, config.backend, config.device, config.score_threshold, config.extra.get("threads"),
            precision=config.precision, runtime=config.runtime,
        )
        with ExitStack() as opened:
            checked = _check_rasters(rasters, config, detector, opened)
            model_name = config.model_path or "bundled " + os.path.basename(getattr(detector, "model_path", ""))
            say(f"model {model_name} on {detector.device}, {_ran(detector)}" + _providers(detector))
            results = []
            for path, ready in zip(rasters, checked, strict=True):
                with _ProgressBar(path, args.quiet) as report:
                    results.append(
                        detect_raster(path, config, progress=report, log=log, detector=detector, checked=ready)
                    )
        publish_outputs(results, args, protect, log)
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    for result in results:
        seconds = result.stats.stage_seconds.get("total", 0.0)
        say(
            f"{result.source}: {len(result.scores)} aircraft "
            f"({seconds:.1f} s, {result.stats.patches_total} patches, {_ran(result.stats)}, "
            f"{result.stats.stretch} stretch{_cascade_note(result.stats)})"
        )
    say(f"wrote {args.output}")
    return 0


def _cascade_note(stats) -> str:
    """', cascade passed P of N' when the first look ran."""
    if not stats.cascade:
        return ""
    return f", cascade passed {stats.patches_cascade_passed} of {stats.stage_passes.get('prescreen', 0)}"


def _check_rasters(paths: list[str], config: DetectConfig, detector, opened: ExitStack) -> list:
    """Every raster opened once as the model's scene and checked (settings, extent, plan: too coarse, absurd or
    too big) before any compute, so bad inputs fail in seconds, not after the first scene; kept open for the run."""
    from engine.pipeline.detect import check_raster

    checked = []
    for path in paths:
        ready = check_raster(path, config, detector)
        opened.callback(ready.scene.close)
        checked.append(ready)
    if len({ready.scene.georeferenced for ready in checked}) > 1:
        raise OutputError("cannot mix georeferenced and non-georeferenced rasters in one GeoPackage")
    return checked


def _model_files(config: DetectConfig) -> list[str]:
    """The model file, or the bundled ones when none is given, and the cascade's when it runs."""
    from engine.contract import BUNDLED_FAST_MODEL_NAME, BUNDLED_WINDOW_MODEL_NAME
    from engine.runtime import bundled_model_path
    from engine.runtime.cascade_runtime import bundled_cascade_path

    reference = bundled_model_path()
    names = (BUNDLED_FAST_MODEL_NAME, BUNDLED_WINDOW_MODEL_NAME)
    bundled = [str(reference)] + [str(reference.with_name(name)) for name in names]
    files = [config.model_path] if config.model_path else bundled
    return [*files, str(bundled_cascade_path())] if config.cascade and config.use_gate else files


def _ran(source) -> str:
    """'openvino int8': the runtime and precision that ran (a detector or a run's RunStats)."""
    return " ".join(filter(None, (getattr(source, "runtime", ""), getattr(source, "precision", ""))))


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
