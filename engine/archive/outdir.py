"""The output folder of an archive run: created when missing, held by one run at a time (an OS lock that a
killed run releases by dying), and cleared of the temporaries that killed runs left."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from engine.archive.records import SCENES_DIR
from engine.atomic_output import remove_stale_temporaries
from engine.errors import OutputError

LOCK_NAME = ".r2cnn-archive.lock"


@contextmanager
def held_outdir(outdir: str) -> Iterator[list[str]]:
    """Create outdir/scenes, lock outdir for this run; yield the stale temporaries removed from both."""
    check_outdir(outdir)
    try:
        os.makedirs(os.path.join(outdir, SCENES_DIR), exist_ok=True)
        handle = open(os.path.join(outdir, LOCK_NAME), "a+")
    except OSError as exc:
        raise OutputError(f"cannot write in {outdir}: {exc.strerror or exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise OutputError(f"{outdir} is in use by another r2cnn detect-archive run") from exc
        try:
            yield remove_stale_temporaries(outdir) + remove_stale_temporaries(os.path.join(outdir, SCENES_DIR))
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_outdir(outdir: str) -> None:
    """Before a cluster starts: an existing folder, or one that can be created in an existing folder."""
    parent = os.path.dirname(os.path.abspath(outdir))
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise OutputError(f"{outdir} is a file, not an output folder")
    if not os.path.isdir(parent):
        raise OutputError(f"the folder that would hold {outdir} does not exist: {parent}")


def clear_temporaries(outdir: str) -> list[str]:
    """After the workers are gone: what the ones killed mid-write left (never a published file)."""
    return remove_stale_temporaries(outdir) + remove_stale_temporaries(os.path.join(outdir, SCENES_DIR))
