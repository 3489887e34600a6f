"""`r2cnn export`: a training checkpoint -> ONNX model with its configuration (and, calibrated, its
recommended thresholds and validation metrics) embedded."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile

from engine.contract import CONFIG_KEY, GRAPHS, PATCH_GRAPH, WINDOW_GRAPH
from engine.errors import CliError, first_line

AIRBUS_LICENCE = (
    "Trained on the Airbus Aircraft Detection sample dataset (Airbus DS Intelligence, annotations by Appen), "
    "CC BY-NC-SA 4.0: the model inherits its non-commercial, share-alike terms."
)


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser("export", help="export a checkpoint to ONNX (the only format inference loads)")
    p.add_argument("checkpoint", help="checkpoint.pt written by r2cnn train (loaded with weights_only=True)")
    p.add_argument("-o", "--output", required=True, help="ONNX file to write")
    p.add_argument("--score-threshold", type=float, default=None, help="recommended score threshold to embed")
    p.add_argument("--gate-threshold", type=float, default=None, help="recommended gate threshold to embed")
    p.add_argument("--calibrate", action="store_true",
                   help="choose both thresholds on the validation split and embed the validation metrics")
    p.add_argument("--dataset", default=None, help="Airbus-form folder for --calibrate (default: ../shared/...)")
    p.add_argument("--calibration-scenes", nargs="*", default=[], metavar="SCENES",
                   help="with --calibrate: whole validation scenes (r2cnn validation-scenes) whose counts join the "
                   "validation table when the score threshold is chosen (false alarms on open land)")
    p.add_argument("--metadata", default=None, help="JSON file of extra metadata (training data, licence, ...)")
    p.add_argument("--weights-out", default=None, help="also save the bare weights (torch, weights_only) here")
    p.add_argument(
        "--graph",
        choices=GRAPHS,
        default=PATCH_GRAPH,
        help="patch: the model contract's per-patch graph (default); window: the trunk once per window of "
        "patches (faster whole scenes, see README Performance)",
    )
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def _calibrate(model, config, root: str, scenes: list[str]) -> tuple[dict, dict]:
    """Export a draft, measure it on the validation split, return threshold updates and metadata."""
    from engine.datasets.airbus import load_image, validation_ids
    from engine.evaluation.calibrate import calibrate, generated_gate_images
    from engine.export.onnx_export import export_onnx
    from engine.runtime.onnx_runtime import OnnxDetector

    with tempfile.TemporaryDirectory() as folder:
        draft = os.path.join(folder, "draft.onnx")
        export_onnx(model, draft, config, {})
        detector = OnnxDetector(draft, device="cpu", min_score=0.05)
        validation = [load_image(root, image_id, gsd_m=config.gsd_m) for image_id in validation_ids()]
        result = calibrate(detector, validation, generated_gate_images(), scenes)
    print(result.validation.to_text())
    print("\nwithout the gate:\n" + result.validation_no_gate.to_text())
    metrics = {
        "validation_split": f"{len(validation)} Airbus images (validation_split.txt) at {config.gsd_m} m",
        "gated": result.validation.to_dict(),
        "no_gate": result.validation_no_gate.to_dict(),
        "gate_on_validation_and_generated_patches": dataclasses.asdict(result.gate_all_patches),
        "precision_095_score_threshold": result.precision_095_threshold,
        "score_threshold_chosen_on": "validation split" + (f" + {len(scenes)} whole scenes" if scenes else ""),
    }
    print(f"\ngate on validation + generated patches: {result.gate_all_patches}")
    updates = {"score_threshold": result.score_threshold, "gate_threshold": round(result.gate_threshold, 4)}
    return updates, {"validation_metrics": metrics}


def _read_metadata(path: str) -> dict:
    """--metadata: a JSON object of text keys (a binary, a list or a broken file is one line)."""
    try:
        with open(path, encoding="utf-8") as handle:
            extra = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"--metadata {path} is not a readable JSON file ({first_line(exc, 120)})") from exc
    if not isinstance(extra, dict):
        raise CliError(f"--metadata {path} must hold a JSON object (key: value), not a {type(extra).__name__}")
    if CONFIG_KEY in extra:
        raise CliError(f"--metadata {path} may not set {CONFIG_KEY!r}: the configuration comes from the checkpoint")
    return extra


def run(args) -> int:
    """Rebuild the network from the checkpoint and write the ONNX graph atomically."""
    from engine.cli.output_rule import check_run_outputs
    from engine.errors import ModelError
    from engine.export.onnx_export import export_onnx
    from engine.runtime.torch_runtime import load_torch_detector

    if args.calibration_scenes and not args.calibrate:
        raise CliError("--calibration-scenes needs --calibrate")
    inputs = [args.checkpoint, args.metadata]
    check_run_outputs({"-o": args.output, "--weights-out": args.weights_out}, args.overwrite, inputs)
    extra = _read_metadata(args.metadata) if args.metadata else {}
    try:
        model = load_torch_detector(args.checkpoint, device="cpu").model
    except ModelError as exc:
        raise CliError(str(exc)) from exc
    metadata = {"licence": AIRBUS_LICENCE, **extra}
    config = model.config
    if args.calibrate:
        from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT
        from engine.evaluation.scene_recall import scene_paths

        try:
            scenes = scene_paths(args.calibration_scenes) if args.calibration_scenes else []
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from exc
        updates, measured = _calibrate(model, config, args.dataset or str(DEFAULT_AIRBUS_ROOT), scenes)
        config = dataclasses.replace(config, **updates)
        metadata.update(measured)
    explicit = (("score_threshold", args.score_threshold), ("gate_threshold", args.gate_threshold))
    config = dataclasses.replace(config, **{k: v for k, v in explicit if v is not None})
    model.config = config
    if args.graph == WINDOW_GRAPH:
        from engine.export.window_export import export_window_onnx

        export_window_onnx(model, args.output, config, metadata)
    else:
        export_onnx(model, args.output, config, metadata)
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB); "
          f"score threshold {config.score_threshold}, gate threshold {config.gate_threshold}")
    if args.weights_out:
        from engine.network.checkpoint import save_checkpoint

        save_checkpoint(args.weights_out, model)  # model.config is `config` (set above)
        print(f"wrote {args.weights_out}")
    return 0
