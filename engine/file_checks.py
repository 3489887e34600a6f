"""What the file system says about a path before and after work: an input that is no file to read, a folder
whose disk is full (libraries report it as "no such table" or not at all)."""

from __future__ import annotations

import os
import stat

DISK_FULL_BYTES = 4 * 1024 * 1024  # less free space than this in an output's folder: say the disk is full


def not_a_regular_file(path: str) -> str | None:
    """Why a local input is no file to read (a FIFO blocks its reader for ever, a device never ends), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # missing: the caller's own message
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        kind = "a FIFO"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    return f"{path} is {kind}, not a file: not read (it could block for ever)"


def disk_full_note(path: str) -> str | None:
    """'the disk is full (N kB free in FOLDER)' when the folder that receives path has (nearly) no room."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    free = fs.f_bavail * fs.f_frsize
    return f"the disk is full ({free / 1024:.0f} kB free in {folder})" if free < DISK_FULL_BYTES else None
