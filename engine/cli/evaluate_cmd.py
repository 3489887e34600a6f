"""`r2cnn evaluate`: a model on the Airbus validation split (or another split) -> the paper's tables."""

from __future__ import annotations

import json
import os
import sys

from engine.contract import BACKENDS, DEVICES, GATE_OFF, PRECISIONS
from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="VOC AP50, threshold table, gate and COCO size bins on labelled images",
        description="Runs a model over Airbus-form images resampled to the model's gsd and prints VOC AP50, "
        "max recall, TP/FP/recall/precision per score threshold, the gate's recall/precision and COCO AP "
        "per AI-TOD size bin.",
    )
    parser.add_argument(
        "--dataset", metavar="DIR", help="folder in the Airbus form (default: ../shared/datasets/...)"
    )
    parser.add_argument(
        "--split", choices=("val", "train", "all"), default="val", help="images (default val)"
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
    parser.add_argument("--gate-threshold", type=float, help="patch gate threshold (default: the model's)")
    parser.add_argument("--no-gate", action="store_true", help="run the detector on every patch")
    parser.add_argument("--batch-size", type=int, default=4, help="patches per network call (default 4)")
    parser.add_argument("--limit", type=int, help="only the first N images of the split")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
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
    if args.gate_threshold is not None and not 0.0 <= args.gate_threshold <= 1.0:
        raise CliError("--gate-threshold must be in [0, 1]")
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
            args.model, backend=args.backend, device=args.device, min_score=MIN_SCORE, precision=args.precision
        )
        gate = (
            GATE_OFF
            if args.no_gate
            else (
                args.gate_threshold
                if args.gate_threshold is not None
                else float(detector.config.gate_threshold)
            )
        )
        images = (
            load_image(root, image_id, gsd_m=detector.config.gsd_m, annotations=annotations)
            for image_id in ids
        )
        report = evaluate_detector(
            detector, images, gate, batch_size=args.batch_size, progress=_progress(len(ids), args.quiet)
        )
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    model_file = os.path.basename(getattr(detector, "model_path", "") or (args.model or ""))
    print(f"{args.split} split of {root} ({len(ids)} images), model {model_file or 'bundled'}")
    print(report.to_text())
    if args.json:
        payload = {
            "dataset": root,
            "split": args.split,
            "model": args.model,
            "image_ids": ids,
            **report.to_dict(),
        }
        _write_json(args.json, payload)
        print(f"json: {args.json}")
    return 0


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


def _write_json(path: str, payload: dict) -> None:
    """Temp file in the same folder, then rename."""
    from engine.atomic_output import atomic_output

    with atomic_output(path, suffix=".json") as tmp, open(tmp, "w") as out:
        json.dump(payload, out, indent=2)
