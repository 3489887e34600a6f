"""Entry point of the `r2cnn` console script: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.errors import CliError, R2cnnError

__all__ = ["CliError", "build_parser", "main"]  # CliError lives in engine.errors; re-exported for old imports

# Each module exposes `register(subparsers)` which adds its parser and sets `func=run(args) -> int`.
SUBCOMMAND_MODULES = (
    "engine.cli.detect_cmd",
    "engine.cli.train_cmd",
    "engine.cli.evaluate_cmd",
    "engine.cli.anchors_cmd",
    "engine.cli.export_cmd",
    "engine.cli.tune_gate_cmd",
    "engine.cli.quantize_cmd",
    "engine.cli.generate_cmd",
    "engine.cli.demo_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """One parser with a subparser per stage of the pipeline."""
    parser = argparse.ArgumentParser(prog="r2cnn", description="Tiny-aircraft detection in large rasters (R2-CNN).")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run, and turn expected failures into one clear line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except R2cnnError as exc:  # CliError is one

        print(f"r2cnn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"r2cnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
