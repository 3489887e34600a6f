"""`r2cnn detect`'s inputs and outputs: repeats dropped, outputs checked before any compute (never an
input, never an existing file without --overwrite), staged after it and published together."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence

from engine.atomic_output import (
    StagedOutput,
    check_output_path,
    publish_all,
    reason,
    remove_stale_temporaries,
    same_file,
    unique_inputs,
)
from engine.cli.process_guard import publishing
from engine.errors import CliError, OutputError


def unique_rasters(paths: Sequence[str], warn: Callable[[str], None]) -> list[str]:
    """Each raster once: the same file given twice would count every aircraft twice."""
    kept, dropped = unique_inputs(paths)
    for path, twin in dropped:
        warn(f"warning: {path} is the same file as {twin}: detected once")
    return kept


def check_outputs(args, protect: Sequence[str], say: Callable[[str], None]) -> None:
    """Before any compute: the vector output and --stats-json are writable, new (or --overwrite), not inputs,
    not each other; temporaries that killed runs left in their folders are removed (and said)."""
    from engine.outputs.vector_writer import check_output_path as check_vector_path

    check_vector_path(args.output, args.overwrite, protect)
    if args.stats_json:
        if same_file(args.stats_json, args.output):
            raise CliError(f"--stats-json and -o both name {args.output}")
        check_output_path(args.stats_json, args.overwrite, protect)
    folders = {os.path.dirname(os.path.abspath(p)) for p in (args.output, args.stats_json) if p}
    for folder in sorted(folders):
        removed = remove_stale_temporaries(folder)
        if removed:
            say(f"removed {len(removed)} temporary file(s) that killed runs left in {folder}")


def publish_outputs(results: Sequence, args, protect: Sequence[str], warn: Callable[[str], None]) -> None:
    """Stage the vector file and the stats, then publish both (the vector file last) with signals held."""
    from engine.outputs.vector_writer import crs_note, stage_detections

    note = crs_note(args.output, results)
    if note:
        warn(f"warning: {note}")
    staged: list[StagedOutput] = []
    try:
        if args.stats_json:
            stats = StagedOutput(args.stats_json, ".json", args.overwrite, protect)
            staged.append(stats)
            payload = {"rasters": [r.stats.to_dict() for r in results], "output": args.output}
            _write_json(stats.tmp, payload, args.stats_json)
        staged.append(stage_detections(results, args.output, args.overwrite, protect))
        with publishing():
            publish_all(staged)
    finally:
        for output in staged:
            output.discard()


def _write_json(path: str, payload: dict, shown: str) -> None:
    try:
        with open(path, "x") as handle:
            json.dump(payload, handle, indent=2, default=_json_default)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {reason(exc)}") from exc


def _json_default(value):
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
