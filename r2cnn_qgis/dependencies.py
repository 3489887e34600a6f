"""Make the bundled engine importable and tell the user, in one message, how to install what is missing."""
from __future__ import annotations

import importlib
import os
import shlex
import sys
import sysconfig
from pathlib import Path

from .paths import PLUGIN_DIR

# Imported by the engine at run time (not at plugin load): checked up front so the failure is one clear line.
RUNTIME_MODULES = ("onnxruntime", "rasterio")
# Import name -> pip distribution name.
PIP_NAMES = {"onnxruntime": "onnxruntime", "rasterio": "rasterio"}


def ensure_engine_importable() -> Path:
    """Put the folder holding `engine/` on sys.path: the plugin folder (zip) or the repository (checkout).

    `engine` is a top-level name: if another package of that name is already loaded, say so clearly
    rather than run someone else's code.
    """
    for folder in (PLUGIN_DIR, PLUGIN_DIR.parent):
        if (folder / "engine" / "__init__.py").is_file():
            loaded = sys.modules.get("engine")
            loaded_file = getattr(loaded, "__file__", None) or ""
            if loaded is not None and Path(loaded_file).resolve().parent.parent != folder:
                raise ImportError(
                    f"another package named 'engine' is already loaded ({loaded_file or loaded!r}); "
                    f"the R2-CNN plugin needs its own, in {folder}"
                )
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
            return folder
    raise ImportError(f"the r2cnn engine is missing: no engine/ package in {PLUGIN_DIR} or its parent")


def missing_modules(names: tuple[str, ...] = RUNTIME_MODULES) -> list[str]:
    """Modules that fail to import (absent or broken, e.g. a DLL that will not load)."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # any failure (absent, broken DLL) means the engine cannot use it
            missing.append(name)
    return missing


def python_executable() -> str:
    """The interpreter QGIS embeds: sys.executable, unless that is the QGIS binary itself (Windows, macOS)."""
    executable = Path(sys.executable) if sys.executable else None
    if executable is not None and executable.name.lower().startswith("python"):
        return str(executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.exec_prefix)
    for candidate in (prefix / "python.exe", prefix / "bin" / f"python{version}", prefix / "bin" / "python3"):
        if candidate.is_file():
            return str(candidate)
    return f"python{version}"


def _in_virtualenv() -> bool:
    """pip refuses --user inside a virtual environment."""
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def _externally_managed() -> bool:
    """PEP 668 (Debian 12, Ubuntu 23.04+): pip refuses system-wide installs without an explicit flag."""
    return (not _in_virtualenv()) and Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").is_file()


def _numpy_pin() -> str:
    """Pin numpy to the installed version so pip never swaps QGIS's numpy for an incompatible one."""
    try:
        import numpy

        return f"numpy=={numpy.__version__}"
    except ImportError:
        return "numpy<2"


def install_command(modules: list[str]) -> str:
    """The exact pip command for this QGIS's Python that installs the given modules."""
    python = python_executable()
    quoted = f'"{python}"' if os.name == "nt" else shlex.quote(python)
    args = [quoted, "-m", "pip", "install"]
    if not _in_virtualenv():
        args.append("--user")
    if _externally_managed():
        args.append("--break-system-packages")
    args += [PIP_NAMES.get(name, name) for name in modules]
    args.append(_numpy_pin())
    return " ".join(args)


def missing_dependency_message() -> str | None:
    """One sentence with the install command, or None when everything the engine needs imports."""
    missing = missing_modules()
    if not missing:
        return None
    names = " and ".join(missing)
    return (
        f"R2-CNN aircraft detection needs {names}, which QGIS's Python cannot import. "
        f"Install with: {install_command(missing)}  and restart QGIS."
    )
