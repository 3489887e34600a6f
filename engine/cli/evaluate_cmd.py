"""`r2cnn evaluate`: a model on the Airbus validation split (or another split) -> the paper's tables; on the
user's own labelled rasters (engine.cli.evaluate_labelled) -> the same tables, error layers and an HTML report."""

from __future__ import annotations

import json
import os
import sys

from engine.cli import evaluate_labelled
from engine.config import DetectConfig
from engine.contract import BACKENDS, DEVICES, PRECISIONS, RUNTIMES
from engine.errors import CliError, SettingsError
from engine.pipeline.raster_bands import STRETCH_MODES
from engine.runtime.run_settings import check_fraction, stream_gate_threshold


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="VOC AP50, threshold table, gate and COCO size bins on labelled images",
        description="Runs a model over Airbus-form images resampled to the model's gsd and prints VOC AP50, "
        "max recall, TP/FP/recall/precision per score threshold, the gate's recall/precision and COCO AP "
        "per AI-TOD size bin. With --data RASTER=VECTOR or --coco JSON it runs the model over your own "
        "labelled rasters as r2cnn detect runs them (or, with --detections, scores an existing layer) and "
        "--report-dir gets the TP / FP / FN GeoPackage, PR curve and score histogram PNGs and an HTML report.",
    )
    parser.add_argument(
        "--dataset", metavar="DIR", help="folder in the Airbus form (default: ../shared/datasets/...)"
    )
    parser.add_argument(
        "--split",
        choices=("val", "train", "all", "none"),
        default="val",
        help="images (default val; none: scenes only)",
    )
    parser.add_argument(
        "--object-scale",
        type=float,
        default=1.0,
        help="resample the images so aircraft appear this many times their true size at the model's gsd "
        "(0.75: 25 %% smaller; default 1)",
    )
    parser.add_argument(
        "--scenes",
        nargs="+",
        metavar="SCENE",
        help="also run r2cnn detect on whole scenes with known boxes (GeoTIFFs with .boxes.csv, or folders, "
        "e.g. from r2cnn validation-scenes) and print recall and precision at the model's thresholds",
    )
    parser.add_argument(
        "--stretch", choices=STRETCH_MODES, default=DetectConfig().stretch, help="for --scenes, as in r2cnn detect"
    )
    parser.add_argument("--model", metavar="MODEL", help="model file (default: the bundled model)")
    parser.add_argument("--backend", choices=BACKENDS, default="onnx", help="default: onnx")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="bundled model only, as in r2cnn detect: auto (default; what detect runs), int8 or fp32",
    )
    parser.add_argument(
        "--runtime", choices=RUNTIMES, default="auto", help="as in r2cnn detect (default auto: what detect runs)"
    )
    parser.add_argument("--gate-threshold", type=float, help="patch gate threshold (default: the model's)")
    parser.add_argument("--no-gate", action="store_true", help="run the detector on every patch")
    parser.add_argument("--batch-size", type=int, default=4, help="patches per network call (default 4)")
    parser.add_argument("--limit", type=int, help="only the first N images of the split")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    evaluate_labelled.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Load model and images, evaluate, print the table, optionally save JSON."""
    from engine.datasets.airbus import (
        DEFAULT_AIRBUS_ROOT,
        DatasetError,
        load_image,
        read_annotations,
        split_ids,
    )
    from engine.errors import R2cnnError
    from engine.evaluation.evaluate import evaluate_detector
    from engine.evaluation.metrics import MIN_SCORE

    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    try:
        check_fraction("--gate-threshold", args.gate_threshold)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    if not 0.25 <= args.object_scale <= 4.0:
        raise CliError("--object-scale must be between 0.25 and 4")
    if evaluate_labelled.wanted(args):
        return evaluate_labelled.run_labelled(args, _progress)
    from engine.cli.output_rule import check_run_outputs

    check_run_outputs({"--json": args.json}, args.overwrite, [args.model, *(args.scenes or [])])
    if args.split == "none":
        if not args.scenes:
            raise CliError("--split none needs --scenes")
        return _scenes_only(args)
    root = args.dataset or str(DEFAULT_AIRBUS_ROOT)
    if not os.path.isdir(root):
        raise CliError(f"dataset folder not found: {root}")
    try:
        annotations = read_annotations(root)
        ids = split_ids(args.split, root)
    except DatasetError as exc:
        raise CliError(str(exc)) from exc
    ids = ids[: args.limit] if args.limit is not None else ids
    if not ids:
        raise CliError(f"no images in the {args.split} split under {root}")
    try:
        from engine.runtime import load_detector

        detector = load_detector(
            args.model, backend=args.backend, device=args.device, min_score=MIN_SCORE, precision=args.precision,
            runtime=args.runtime,
        )
        gate = stream_gate_threshold(detector.config, args.gate_threshold, not args.no_gate)
        images = (
            load_image(root, image_id, gsd_m=detector.config.gsd_m / args.object_scale, annotations=annotations)
            for image_id in ids
        )
        report = evaluate_detector(
            detector, images, gate, batch_size=args.batch_size, progress=_progress(len(ids), args.quiet)
        )
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    model_file = os.path.basename(getattr(detector, "model_path", "") or (args.model or ""))
    scale = f", aircraft x{args.object_scale:g} their size" if args.object_scale != 1.0 else ""
    print(f"{args.split} split of {root} ({len(ids)} images{scale}), model {model_file or 'bundled'}")
    print(report.to_text())
    scenes = _scene_report(args) if args.scenes else None
    if args.json:
        payload = {
            "dataset": root,
            "split": args.split,
            "model": args.model,
            "image_ids": ids,
            "object_scale": args.object_scale,
            **report.to_dict(),
        }
        if scenes is not None:
            payload["scenes"] = scenes
        _write_json(args.json, payload, args.overwrite)
        print(f"json: {args.json}")
    return 0


def _scenes_only(args) -> int:
    """--split none: just the whole-scene table."""
    scenes = _scene_report(args)
    if args.json:
        _write_json(args.json, {"model": args.model, "scenes": scenes}, args.overwrite)
        print(f"json: {args.json}")
    return 0


def _scene_report(args) -> list[dict]:
    """detect_raster on each scene with the deployed settings; prints the table, returns it as JSON rows."""
    import dataclasses

    from engine.errors import R2cnnError
    from engine.evaluation.scene_recall import evaluate_scenes, pooled, scene_paths, scene_table

    try:
        paths = scene_paths(args.scenes)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    config = DetectConfig(
        model_path=args.model,
        backend=args.backend,
        device=args.device,
        precision=args.precision,
        gate_threshold=args.gate_threshold,
        use_gate=not args.no_gate,
        batch_size=args.batch_size,
        stretch=args.stretch,
        runtime=args.runtime,
    )
    try:
        from engine.runtime import load_detector

        # the model's own thresholds, as r2cnn detect: not the evaluation's low score floor
        deployed = load_detector(
            args.model, backend=args.backend, device=args.device, precision=args.precision, runtime=args.runtime
        )
        scores = evaluate_scenes(paths, deployed, config)
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    print("\nwhole scenes (r2cnn detect with the model's thresholds; a match is IoU >= 0.5, one to one):")
    print(scene_table(scores))
    total = pooled(scores)
    rows = [{"scene": s.path, **dataclasses.asdict(s.match), "recall": s.match.recall,
             "precision": s.match.precision, "seconds": s.seconds} for s in scores]  # fmt: skip
    return rows + [{"scene": "all", "recall": total.recall, "precision": total.precision}]


def _progress(total: int, quiet: bool):
    """A tqdm bar on stderr fed by the images done (None when quiet)."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="image", file=sys.stderr, leave=False)

    def update(done: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _write_json(path: str, payload: dict, overwrite: bool) -> None:
    """Temp file in the same folder, then rename (exclusively without --overwrite)."""
    from engine.atomic_output import atomic_output

    with atomic_output(path, suffix=".json", overwrite=overwrite) as tmp, open(tmp, "w") as out:
        json.dump(payload, out, indent=2)
