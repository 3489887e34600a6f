"""Entry point of the `r2cnn` console script: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from engine.atomic_output import reason
from engine.cli.process_guard import STOP_SIGNALS, Terminated, exit_status, guard_stderr, install_signal_handlers
from engine.errors import CliError, R2cnnError

__all__ = ["CliError", "build_parser", "main"]  # CliError lives in engine.errors; re-exported for old imports

# Each module exposes `register(subparsers)` which adds its parser and sets `func=run(args) -> int`.
SUBCOMMAND_MODULES = (
    "engine.cli.detect_cmd",
    "engine.cli.archive_cmd",
    "engine.cli.activity_cmd",
    "engine.cli.train_cmd",
    "engine.cli.evaluate_cmd",
    "engine.cli.anchors_cmd",
    "engine.cli.export_cmd",
    "engine.cli.tune_gate_cmd",
    "engine.cli.cascade_cmd",
    "engine.cli.quantize_cmd",
    "engine.cli.generate_cmd",
    "engine.cli.validation_scenes_cmd",
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
    """Parse, run, and turn expected failures into one clear line and a non-zero exit.

    SIGTERM / SIGHUP unwind like Ctrl-C (exit 128 + signal); a closed or full stderr never stops the run.
    An in-process call (argv given) gets its signal handlers back; the console script keeps them to the
    end, so a signal after the outputs are published cannot turn success into failure.
    """
    guard_stderr()
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    install_signal_handlers()
    try:
        args = build_parser().parse_args(argv)
        try:
            return int(args.func(args) or 0)
        except R2cnnError as exc:  # CliError is one
            print(f"r2cnn {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # the machine, not the input (a vanished file, a full disk): still one line
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"r2cnn {args.command}: error: {where}{reason(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as exc:
            word = f"terminated by {exc}" if isinstance(exc, Terminated) else "interrupted"
            print(f"r2cnn {args.command}: {word}", file=sys.stderr)
            return exit_status(exc)
    finally:
        if argv is not None and threading.current_thread() is threading.main_thread():
            for signum, handler in handlers.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
