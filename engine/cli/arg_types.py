"""argparse value types shared by the subcommands: a bad number is one usage line, not a traceback."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (inf and nan are not sizes)."""
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def host_port(text: str) -> str:
    """[HOST]:PORT for a server to listen on (PORT 0: any free one)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or any(c.isspace() or c == "/" for c in host):
        raise argparse.ArgumentTypeError(f"must be [HOST]:PORT with PORT 0..65535, got {text!r}")
    return text
