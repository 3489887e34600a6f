"""The one output rule of every subcommand, checked before any compute: each file a run writes is new (or
--overwrite), in a writable folder, never an input or the model (compared by inode) and never another output of
the same run; written whole (atomic_output / StagedOutput) or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.atomic_output import check_output_path, same_file
from engine.errors import CliError


def check_run_outputs(outputs: Mapping[str, str | None], overwrite: bool, protect: Iterable[str] = ()) -> None:
    """outputs: option name -> path (None: not asked for); protect: every file the run reads."""
    protect = [p for p in protect if p]
    named = [(option, path) for option, path in outputs.items() if path]
    for position, (option, path) in enumerate(named):
        for other_option, other in named[:position]:
            if same_file(path, other):
                raise CliError(f"{option} and {other_option} both name {path}: give each output its own file")
        check_output_path(path, overwrite, protect)
