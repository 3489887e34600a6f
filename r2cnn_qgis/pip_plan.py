"""pip command lines that add packages for QGIS's Python without replacing or shadowing what it has.

Two steps, both run with QGIS's own interpreter:
1. resolve: `pip install --dry-run --report` against QGIS's environment, with a constraints file pinning
   every distribution already installed there (numpy and all QGIS imports), so pip picks versions that
   work with them and reports only what is really missing;
2. install: exactly those `name==version`, `--no-deps`, into a folder the plugin owns (`--target`), which
   is appended to sys.path: it can only add modules, never hide one QGIS already has.
No Qt here: the dialog runs these commands in a QProcess.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path

PACKAGES_FOLDER = "r2cnn_packages"
_VERSION = re.compile(  # PEP 440 (public part, optional local label): pip refuses anything else
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$",
    re.IGNORECASE,
)
PIP_QUIET_FLAGS = ("--disable-pip-version-check", "--no-input", "--progress-bar", "off")


def normalise(name: str) -> str:
    """PEP 503 name, so `Pillow`, `pillow` and `PIL-low` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_dir(profile_dir: str | Path, version_info: tuple[int, ...] = tuple(sys.version_info)) -> Path:
    """<QGIS profile>/r2cnn_packages/python3.X: per Python version, as compiled wheels are."""
    return Path(profile_dir) / PACKAGES_FOLDER / f"python{version_info[0]}.{version_info[1]}"


def installed_distributions(path: list[str] | None = None) -> dict[str, str]:
    """Normalised name -> version of each distribution on path (sys.path), the first one found winning."""
    found: dict[str, str] = {}
    for distribution in importlib.metadata.distributions(path=path if path is not None else sys.path):
        name = distribution.metadata["Name"] if distribution.metadata else None
        if name and normalise(name) not in found:
            found[normalise(name)] = distribution.version
    return found


def constraints_text(distributions: dict[str, str], exclude: tuple[str, ...] = ()) -> str:
    """`name==version` lines for pip -c; versions pip cannot parse (some distribution builds) are left out."""
    skipped = {normalise(name) for name in exclude}
    lines = [
        f"{name}=={version}"
        for name, version in sorted(distributions.items())
        if name not in skipped and version and _VERSION.match(version)
    ]
    return "".join(line + "\n" for line in lines)


def resolve_command(python: str, requirements: list[str], constraints_file: Path, report_file: Path) -> list[str]:
    """Step 1: what pip would add to QGIS's environment (nothing is installed; PEP 668 allows it)."""
    return [python, "-m", "pip", "install", "--dry-run", "--report", str(report_file),
            "-c", str(constraints_file), *PIP_QUIET_FLAGS, *requirements]


def install_command(python: str, target: Path, pins: list[str]) -> list[str]:
    """Step 2: exactly the resolved distributions, no dependency resolution, into the plugin's folder."""
    return [python, "-m", "pip", "install", "--target", str(target), "--no-deps", "--upgrade",
            *PIP_QUIET_FLAGS, *pins]


def pins_from_report(report: dict, installed: dict[str, str]) -> list[str]:
    """`name==version` for each distribution of pip's report that QGIS's Python does not have yet."""
    pins = []
    for item in report.get("install", []):
        metadata = item.get("metadata", {})
        name, version = metadata.get("name"), metadata.get("version")
        if name and version and normalise(name) not in installed:
            pins.append(f"{name}=={version}")
    return pins


def pip_environment(base: dict[str, str], target: Path) -> dict[str, str]:
    """The subprocess environment: pip sees the plugin's folder too (as installed), prints plain text."""
    environment = dict(base)
    existing = environment.get("PYTHONPATH", "")
    environment["PYTHONPATH"] = f"{existing}{os.pathsep}{target}" if existing else str(target)
    environment["PYTHONIOENCODING"] = "utf-8"
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return environment
