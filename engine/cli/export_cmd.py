"""`r2cnn export`: a training checkpoint -> ONNX model with its configuration embedded."""
from __future__ import annotations

import dataclasses
import json
import os


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser("export", help="export a checkpoint to ONNX (the only format inference loads)")
    p.add_argument("checkpoint", help="checkpoint.pt written by r2cnn train (loaded with weights_only=True)")
    p.add_argument("-o", "--output", required=True, help="ONNX file to write")
    p.add_argument("--score-threshold", type=float, default=None, help="recommended score threshold to embed")
    p.add_argument("--gate-threshold", type=float, default=None, help="recommended gate threshold to embed")
    p.add_argument("--metadata", default=None, help="JSON file of extra metadata (training data, licence, metrics)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Rebuild the network from the checkpoint and write the ONNX graph atomically."""
    from engine.cli.main import CliError
    from engine.export.onnx_export import export_onnx
    from engine.runtime.torch_runtime import load_torch_detector

    if os.path.exists(args.output) and not args.overwrite:
        raise CliError(f"{args.output} exists (use --overwrite)")
    from engine.errors import ModelError

    try:
        model = load_torch_detector(args.checkpoint, device="cpu").model
    except ModelError as exc:
        raise CliError(str(exc)) from exc
    updates = {k: v for k, v in (("score_threshold", args.score_threshold), ("gate_threshold", args.gate_threshold)) if v is not None}
    config = dataclasses.replace(model.config, **updates)
    model.config = config
    metadata = {}
    if args.metadata:
        with open(args.metadata) as handle:
            metadata = json.load(handle)
    export_onnx(model, args.output, config, metadata)
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB)")
    return 0
