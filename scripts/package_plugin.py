"""Build r2cnn_qgis.zip, the installable QGIS plugin: one top folder r2cnn_qgis/ holding the plugin code,
metadata.txt, the engine (r2cnn_qgis/engine/, put on sys.path by r2cnn_qgis/dependencies.py), the bundled
model, the style and the icon; no tests, no benchmark (benchmarks/ is never copied), no caches.
Usage: python scripts/package_plugin.py [--out ZIP]."""
from __future__ import annotations

import argparse
import configparser
import os
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TOP = "r2cnn_qgis"
MODEL = Path("resources/models/r2cnn_aircraft.onnx")
OPTIONAL_FILES = (
    Path("resources/models/r2cnn_aircraft.window.int8.onnx"),  # the fast default on CPU; fp32 is the fallback
    Path("resources/models/r2cnn_aircraft.window.onnx"),  # the default on x86 CPUs without VNNI
    Path("resources/models/MODEL_CARD.md"),
    Path("resources/cascade/aircraft_cascade.onnx"),  # the first look in front of the trunk (on by default)
    Path("LICENSE"),
)
REQUIRED_RESOURCES = (Path("resources/styles/aircraft.qml"), Path("resources/icon.svg"))
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", "tests", "benchmarks", ".mypy_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".orig", ".rej", ".swp"}
REQUIRED_METADATA = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                     "repository", "tracker", "hasProcessingProvider", "icon", "tags", "category")
FIXED_DATE = (2024, 1, 1, 0, 0, 0)  # same bytes for the same sources


class PackageError(Exception):
    """Something the zip needs is missing or inconsistent: one line, exit status 2."""


def tree_files(folder: Path) -> list[Path]:
    """Every shippable file under folder (relative to the repository), caches and tests excluded."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(REPO_ROOT)
        skipped = SKIPPED_DIRS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES
        if path.is_file() and not skipped:
            files.append(relative)
    return files


def check_metadata() -> None:
    """metadata.txt has every key the plugin repository asks for, and its version is the engine's."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    if not parser.has_section("general"):
        raise PackageError("metadata.txt is missing or has no [general] section")
    missing = [key for key in REQUIRED_METADATA if not parser.get("general", key, fallback="").strip()]
    if missing:
        raise PackageError(f"metadata.txt lacks {', '.join(missing)}")
    sys.path.insert(0, str(REPO_ROOT))
    from engine import __version__

    if parser.get("general", "version") != __version__:
        raise PackageError(f"metadata.txt version {parser.get('general', 'version')} != engine {__version__}")


def plan(allow_missing_model: bool) -> list[tuple[Path, str]]:
    """(source relative to the repository, name inside the zip) for every file of the package."""
    check_metadata()
    entries = [(path, f"{TOP}/{path.relative_to(TOP).as_posix()}") for path in tree_files(REPO_ROOT / TOP)]
    entries.append((Path("metadata.txt"), f"{TOP}/metadata.txt"))
    entries += [(path, f"{TOP}/{path.as_posix()}") for path in tree_files(REPO_ROOT / "engine")]
    for resource in REQUIRED_RESOURCES:
        if not (REPO_ROOT / resource).is_file():
            raise PackageError(f"{resource} is missing")
        entries.append((resource, f"{TOP}/{resource.as_posix()}"))
    if (REPO_ROOT / MODEL).is_file():
        entries.append((MODEL, f"{TOP}/{MODEL.as_posix()}"))
    elif not allow_missing_model:
        raise PackageError(f"{MODEL} is missing: export the trained model first (or --allow-missing-model)")
    entries += [(path, f"{TOP}/{path.as_posix()}") for path in OPTIONAL_FILES if (REPO_ROOT / path).is_file()]
    return entries


def write_zip(entries: list[tuple[Path, str]], out_path: Path) -> int:
    """Write through a temporary file in the same folder, then rename: never a half-written zip."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".r2cnn_qgis-", suffix=".zip", dir=out_path.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temp_name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for source, name in entries:
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, (REPO_ROOT / source).read_bytes())
        os.replace(temp_name, out_path)
    except BaseException:
        os.unlink(temp_name)
        raise
    return out_path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """Build the zip and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "r2cnn_qgis.zip", help="zip to write")
    parser.add_argument("--allow-missing-model", action="store_true",
                        help="build without resources/models/r2cnn_aircraft.onnx (tests only)")
    args = parser.parse_args(argv)
    try:
        entries = plan(args.allow_missing_model)
        size = write_zip(entries, args.out)
    except PackageError as exc:
        print(f"package_plugin: error: {exc}", file=sys.stderr)
        return 2
    model_note = "with the model" if any(source == MODEL for source, _ in entries) else "WITHOUT the model"
    print(f"{args.out}: {size / 1e6:.2f} MB ({size} bytes), {len(entries)} files, {model_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
