"""`r2cnn quantize MODEL.onnx -o MODEL.int8.onnx`: INT8 static quantization calibrated on training patches."""

from __future__ import annotations

import os

from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    from engine.export.quantize import DETECTOR_OUTPUT_CONVS, FORMATS

    p = subparsers.add_parser(
        "quantize",
        help="INT8 static quantization of an ONNX model (faster on CPU; fp32 stays usable)",
        description="Quantizes the convolutions (int8 per-channel weights, uint8 activations) of an r2cnn ONNX "
        "model, per-patch or window graph, calibrated on Airbus training-split patches and generated ones; "
        "the metadata is copied and a r2cnn_quantization record added. Check it with r2cnn evaluate.",
    )
    p.add_argument("model", metavar="MODEL.onnx", help="fp32 model written by r2cnn export")
    p.add_argument("-o", "--output", required=True, metavar="OUT.onnx", help="quantized model to write")
    p.add_argument("--format", choices=FORMATS, default="qdq", help="ONNX quantized form (default qdq)")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor (default: per channel)")
    p.add_argument(
        "--calibrate-method", choices=("minmax", "percentile", "entropy"), default="minmax", help="default minmax"
    )
    p.add_argument("--calibration-patches", type=int, default=48, help="training patches to calibrate on (48)")
    p.add_argument(
        "--keep-fp32",
        nargs="*",
        metavar="PATTERN",
        default=list(DETECTOR_OUTPUT_CONVS),
        help="node-name substrings of convolutions left in fp32 (default: the gate logits and the RPN "
        "objectness / box-delta convolutions); give none to quantize every convolution",
    )
    p.add_argument("--dataset", default=None, help="Airbus-form folder (default: ../shared/datasets/...)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Check paths, calibrate and quantize, print what stayed fp32."""
    from engine.cli.output_rule import check_run_outputs
    from engine.export.quantize import QuantizeOptions, quantize_model

    check_run_outputs({"-o": args.output}, args.overwrite, [args.model])
    if args.calibration_patches < 1:
        raise CliError("--calibration-patches must be at least 1")
    if args.dataset is not None and not os.path.isdir(args.dataset):
        raise CliError(f"dataset folder not found: {args.dataset}")
    options = QuantizeOptions(
        quant_format=args.format,
        per_channel=not args.per_tensor,
        calibrate_method=args.calibrate_method,
        exclude_patterns=tuple(args.keep_fp32),
        calibration_patches=args.calibration_patches,
        seed=args.seed,
    )
    record = quantize_model(args.model, args.output, options, airbus_root=args.dataset)
    print(
        f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB): {record['quantized_convs']} "
        f"convolutions int8 ({args.format}, {record['weights']}), {len(record['excluded_nodes'])} kept fp32, "
        f"calibrated on {record['calibration_patches_used']} patches"
    )
    return 0
