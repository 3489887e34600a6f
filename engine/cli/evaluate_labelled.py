"""`r2cnn evaluate` on the user's labelled data (--data RASTER=VECTOR, --coco JSON, or the Airbus folder with
--report-dir), by the model through the deployed pipeline or, with --detections, an existing layer scored
as it is; the report folder gets the TP / FP / FN GeoPackage, the PNG figures, the HTML page and JSON."""

from __future__ import annotations

import os

from engine.cli.data_args import add_data_arguments, has_data, label_source
from engine.errors import CliError
from engine.outputs.fields import SCORE


def add_arguments(parser) -> None:
    """The options of this mode (the rest of `r2cnn evaluate` is unchanged)."""
    group = add_data_arguments(parser, "your own labelled data (any GDAL raster, any OGR vector, or COCO)")
    group.add_argument("--detections", metavar="LAYER",
                       help="score this detection layer against the references instead of running the model")
    group.add_argument("--score-field", default=SCORE,
                       help="the detection layer's score attribute (default score; 'none': every detection scores 1)")
    group.add_argument("--score-threshold", type=float,
                       help="operating point for TP / FP / FN (default: the model's; with --detections 0)")
    group.add_argument("--iou", type=float, default=0.5, help="IoU for a match, one to one (default 0.5)")
    group.add_argument("--report-dir", metavar="DIR",
                       help="write evaluation.gpkg (true_positive, false_positive, false_negative), pr_curve.png, "
                       "score_histogram.png, report.html and report.json here")
    group.add_argument("--overwrite", action="store_true", help="replace the files of an existing report folder")


def wanted(args) -> bool:
    """Does this invocation ask for the labelled-data mode?"""
    return bool(has_data(args) or args.detections or args.report_dir)


def run_labelled(args, progress) -> int:
    """Read, check the outputs, evaluate (or score the layer), print, write the report folder and JSON."""
    import dataclasses

    from engine.cli.output_rule import check_run_outputs
    from engine.config import DetectConfig
    from engine.datasets.readers import read_labelled
    from engine.errors import R2cnnError
    from engine.evaluation.labelled_eval import evaluate_rasters, score_layer
    from engine.evaluation.metrics import MIN_SCORE
    from engine.evaluation.report_content import to_dict, to_text
    from engine.evaluation.report_folder import check_report_folder, report_paths, write_report_folder
    from engine.runtime.run_settings import check_fraction, stream_gate_threshold

    if not 0.0 < args.iou <= 1.0:
        raise CliError("--iou must be in (0, 1]")
    if args.scenes or args.object_scale != 1.0:
        raise CliError("--scenes and --object-scale go with the Airbus tables: run them without --data, --coco, "
                       "--detections or --report-dir")
    if args.split == "none" and not has_data(args):
        raise CliError("--split none leaves no labelled images: give --data or --coco")
    try:
        check_fraction("--score-threshold", args.score_threshold)
        data = read_labelled(label_source(args, args.dataset, args.split))
        if args.limit is not None:
            data = dataclasses.replace(data, items=data.items[: max(args.limit, 0)])
            if not data.items:
                raise CliError("--limit leaves no images")
        inputs = [item.path for item in data.items] + [item.reference for item in data.items]
        inputs += [args.detections] if args.detections else []
        if args.report_dir:
            check_report_folder(args.report_dir, args.overwrite, inputs)
        folder = report_paths(args.report_dir) if args.report_dir and os.path.isdir(args.report_dir) else {}
        named = {f"--report-dir's {os.path.basename(p)}": p for p in folder.values()}
        check_run_outputs({**named, "--json": args.json}, args.overwrite, [*inputs, args.model])
        if args.detections:
            field = None if args.score_field.lower() == "none" else args.score_field
            evaluation = score_layer(data, args.detections, field, score_threshold=args.score_threshold or 0.0,
                                     iou_threshold=args.iou)
        else:
            from engine.runtime import load_detector

            detector = load_detector(args.model, backend=args.backend, device=args.device, min_score=MIN_SCORE,
                                     precision=args.precision, runtime=args.runtime)
            config = DetectConfig(batch_size=args.batch_size, stretch=args.stretch)
            gate = stream_gate_threshold(detector.config, args.gate_threshold, not args.no_gate)
            evaluation = evaluate_rasters(detector, data, config, gate, args.score_threshold, args.iou,
                                          progress(len(data.items), args.quiet))
        print(data.description)
        print(to_text(evaluation))
        if args.report_dir:
            files = write_report_folder(evaluation, args.report_dir, args.overwrite, inputs)
            for note in files.notes:
                print(f"warning: {note}")
            print("report: " + ", ".join(os.path.basename(p) for p in files.paths.values()) + f" in {args.report_dir}")
        if args.json:
            _write_json(args.json, to_dict(evaluation), args.overwrite)
            print(f"json: {args.json}")
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    return 0


def _write_json(path: str, payload: dict, overwrite: bool) -> None:
    """Temp file in the same folder, then rename (exclusively without --overwrite)."""
    import json

    from engine.atomic_output import atomic_output

    with atomic_output(path, suffix=".json", overwrite=overwrite) as tmp, open(tmp, "w") as out:
        json.dump(payload, out, indent=2)
