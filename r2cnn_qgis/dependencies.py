"""Make the bundled engine and the plugin's own package folder importable; say what is missing, briefly."""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from .paths import PLUGIN_DIR
from .pip_plan import packages_dir
from .ui_names import INSTALL_ACTION, menu_path


@dataclass(frozen=True)
class Requirement:
    """One Python module the engine imports, and the pip distributions that provide it."""

    module: str
    pip_names: tuple[str, ...]  # the first is the default; the dialog offers the others
    purpose: str
    required: bool = True


REQUIREMENTS = (
    Requirement("onnxruntime", ("onnxruntime", "onnxruntime-gpu"), "runs the detection model"),
    Requirement("rasterio", ("rasterio",), "reads the raster patch by patch"),
    Requirement("openvino", ("openvino",), "runs the model faster on the CPU", required=False),
    Requirement("pycocotools", ("pycocotools",), "AP per aircraft size in evaluation reports", required=False),
)
RUNTIME_MODULES = tuple(r.module for r in REQUIREMENTS if r.required)
SPEEDUP_MODULES = ("openvino",)  # optional, named in the missing-package line: detection runs faster with it


def ensure_engine_importable() -> Path:
    """Put the folder holding `engine/` on sys.path: the plugin folder (zip) or the repository (checkout).

    `engine` is a top-level name: if another package of that name is already loaded, say so clearly
    rather than run someone else's code.
    """
    activate_packages_dir()
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


def plugin_packages_dir() -> Path | None:
    """Where the install dialog puts packages: under the active QGIS profile (None before QGIS starts)."""
    from qgis.core import QgsApplication

    profile = QgsApplication.qgisSettingsDirPath()
    return packages_dir(profile) if profile and Path(profile).is_absolute() else None


def activate_packages_dir(folder: Path | None = None) -> Path | None:
    """Append the plugin's package folder to sys.path (last: it adds modules, never hides QGIS's own)."""
    folder = folder or plugin_packages_dir()
    if folder is not None and folder.is_dir() and str(folder) not in sys.path:
        sys.path.append(str(folder))
    importlib.invalidate_caches()
    return folder


def import_error(module: str) -> str | None:
    """Why `import module` fails (absent, broken DLL, wrong numpy), or None when it imports."""
    try:
        importlib.import_module(module)
    except Exception as exc:  # any failure means the engine cannot use it
        return f"{type(exc).__name__}: {exc}"
    return None


def missing_modules(names: tuple[str, ...] = RUNTIME_MODULES) -> list[str]:
    """Modules that fail to import (absent or broken, e.g. a DLL that will not load)."""
    return [name for name in names if import_error(name) is not None]


def missing_dependency_message() -> str | None:
    """One short line naming what is missing and where to install it, or None when all imports."""
    missing = missing_modules()
    if not missing:
        return None
    names = " and ".join(missing)
    optional = missing_modules(SPEEDUP_MODULES)
    speedup = f" ({' and '.join(optional)} too, optional: faster on the CPU)" if optional else ""
    return (
        f"R2-CNN aircraft detection needs {names} for QGIS's Python{speedup}: "
        f"install it with {menu_path(INSTALL_ACTION)}"
    )
