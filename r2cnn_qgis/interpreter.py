"""Find the Python interpreter QGIS itself embeds: packages must be installed for it, not for sys.executable.

Inside QGIS, sys.executable is unreliable: on Linux it can be whatever `python3` comes first on PATH
(a pyenv shim, a virtual environment), on Windows it is qgis-bin.exe, on macOS the QGIS.app binary.
Each candidate is run and kept only if it reports the very version QGIS runs (sys.version_info).
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath

PROBE_CODE = (
    "import importlib.util, json, sys; print(json.dumps({'version': list(sys.version_info[:3]), "
    "'pip': importlib.util.find_spec('pip') is not None}))"
)
PROBE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Interpreter:
    """A verified interpreter: its path, the version it reported, whether it can run pip."""

    path: str
    version: tuple[int, int, int]
    has_pip: bool


@dataclass(frozen=True)
class FinderResult:
    """The interpreter found (or None) and why each other candidate was passed over."""

    interpreter: Interpreter | None
    rejected: tuple[str, ...] = ()

    def describe(self) -> str:
        """One sentence for the install dialog."""
        if self.interpreter is not None:
            version = ".".join(map(str, self.interpreter.version))
            return f"{self.interpreter.path} (Python {version})"
        tried = "; ".join(self.rejected) or "no candidate file exists"
        return f"QGIS's Python interpreter was not found ({tried})"


def candidate_paths(
    platform: str,
    executable: str,
    prefix: str,
    exec_prefix: str,
    version: tuple[int, ...],
    is_file: Callable[[str], bool] = os.path.isfile,
    list_glob: Callable[[str], list[str]] = glob.glob,
) -> list[str]:
    """Where QGIS's interpreter can be, most likely first, existing files only, no duplicates."""
    major_minor = f"{version[0]}.{version[1]}"
    path_type: type[PurePath] = PureWindowsPath if platform == "win32" else PurePosixPath
    exe = path_type(executable) if executable else None
    named_python = exe is not None and exe.name.lower().startswith("python")

    def in_bin(*folders: str) -> list[str]:
        return [str(path_type(f) / "bin" / name) for f in folders for name in (f"python{major_minor}", "python3")]

    found: list[str] = []
    if platform == "win32":  # OSGeo4W / standalone: apps\Python3x\python.exe is sys.prefix
        for folder in (prefix, exec_prefix):
            found.append(str(path_type(folder) / "python.exe"))
        if exe is not None:
            found += [str(exe.parent / "python3.exe"), str(exe.parent / "python.exe")]
            found += sorted(list_glob(str(exe.parent / "python*.exe")))
    elif platform == "darwin":  # QGIS.app/Contents/MacOS/QGIS, interpreter in Contents/MacOS/bin
        if exe is not None:
            found += [str(exe.parent / "bin" / "python3"), str(exe.parent / "bin" / f"python{major_minor}")]
            app = next((p for p in exe.parents if p.suffix == ".app"), None)
            if app is not None:
                framework = app / "Contents" / "Frameworks" / "Python.framework" / "Versions" / major_minor
                found.append(str(framework / "bin" / f"python{major_minor}"))
        found += in_bin(exec_prefix, prefix)
    else:  # Linux and other Unix: the distribution's interpreter under sys.exec_prefix (/usr)
        found += in_bin(exec_prefix, prefix)
    if named_python:
        found.append(str(exe))
    if platform not in ("win32", "darwin"):
        found += [f"/usr/bin/python{major_minor}", "/usr/bin/python3", f"/usr/local/bin/python{major_minor}"]
    unique = list(dict.fromkeys(found))
    return [path for path in unique if is_file(path)]


def probe(path: str) -> Interpreter | str:
    """Run the candidate: its Interpreter, or why it cannot be used (does not start, odd output)."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        completed = subprocess.run(
            [path, "-c", PROBE_CODE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
            creationflags=flags,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path}: does not run ({exc})"
    lines = completed.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
        version = tuple(int(part) for part in answer["version"])
        return Interpreter(path, version, bool(answer["pip"]))  # type: ignore[arg-type]
    except (IndexError, KeyError, TypeError, ValueError):
        reason = (completed.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"{path}: not a usable Python ({reason})"


def find_qgis_python(
    probe_fn: Callable[[str], Interpreter | str] = probe,
    candidates: list[str] | None = None,
    version: tuple[int, ...] = tuple(sys.version_info[:3]),
) -> FinderResult:
    """The first candidate that runs and reports QGIS's own Python version."""
    if candidates is None:
        candidates = candidate_paths(sys.platform, sys.executable, sys.prefix, sys.exec_prefix, version)
    rejected = []
    for path in candidates:
        answer = probe_fn(path)
        if isinstance(answer, str):
            rejected.append(answer)
        elif answer.version[:3] != tuple(version[:3]):
            found, wanted = ".".join(map(str, answer.version)), ".".join(map(str, version[:3]))
            rejected.append(f"{path} is Python {found}, QGIS runs {wanted}")
        else:
            return FinderResult(answer, tuple(rejected))
    return FinderResult(None, tuple(rejected))
