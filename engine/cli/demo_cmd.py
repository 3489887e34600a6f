"""`r2cnn demo` (placeholder until its issue lands)."""
from __future__ import annotations


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser("demo", help="(not yet implemented)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Not implemented yet."""
    from engine.cli.main import CliError

    raise CliError("not implemented yet")
