"""`r2cnn tune-gate`: re-fit only the patch gate of a checkpoint on whole-scene patches (trunk frozen)."""

from __future__ import annotations

from engine.cli.arg_types import positive_int
from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser(
        "tune-gate",
        help="re-fit the patch gate alone on tiled generated scenes + Airbus images; detector weights unchanged",
    )
    p.add_argument("checkpoint", help="checkpoint.pt (r2cnn train, or export --weights-out; loaded weights_only)")
    p.add_argument("-o", "--output", required=True, help="checkpoint to write (then: r2cnn export --calibrate)")
    p.add_argument("--dataset", default=None, help="Airbus-form folder (default: ../shared/datasets/airbus-aircraft)")
    p.add_argument("--scenes", type=int, default=24, help="generated scenes to tile (3072 px each)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Build the patch set, extract frozen features once, fit the gate, save a checkpoint atomically."""
    import dataclasses

    import torch

    from engine.cli.output_rule import check_run_outputs
    from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT
    from engine.errors import ModelError
    from engine.network.checkpoint import save_checkpoint
    from engine.runtime.torch_runtime import load_torch_detector
    from engine.training.gate_tuning import GateTuningConfig, fit_gate, frozen_gate_features, tuning_patches

    if args.scenes < 1 or args.epochs < 1:
        raise CliError("--scenes and --epochs must be at least 1")
    check_run_outputs({"-o": args.output}, args.overwrite, [args.checkpoint])
    torch.set_num_threads(args.threads)
    try:
        model = load_torch_detector(args.checkpoint, device="cpu").model
    except ModelError as exc:
        raise CliError(str(exc)) from exc
    config = GateTuningConfig(scenes=args.scenes, epochs=args.epochs)
    patches, airbus_count = tuning_patches(config, model.config, args.dataset or str(DEFAULT_AIRBUS_ROOT))
    print(f"{len(patches.positive)} patches ({int(patches.positive.sum())} with aircraft; "
          f"{airbus_count} Airbus), features x2 (mirrored) ...", flush=True)
    features = frozen_gate_features(model, patches)
    tuned = fit_gate(model, features, patches.positive, config, log=lambda line: print(line, flush=True))
    save_checkpoint(args.output, tuned, gate_tuning=str(dataclasses.asdict(config)))
    print(f"wrote {args.output}")
    return 0
