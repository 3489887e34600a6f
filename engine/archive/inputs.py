"""The scenes of an archive run: rasters, folders, globs and manifests (CSV or text lists of paths or GDAL
URLs such as /vsis3/...) flattened into one ordered list, each scene once, so an archive is given as stored."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator, Sequence

from engine.atomic_output import is_gdal_virtual, unique_inputs
from engine.errors import RasterInputError
from engine.file_checks import not_a_regular_file

# What a folder search takes as a raster (the formats satellite archives are delivered in).
RASTER_EXTENSIONS = (".tif", ".tiff", ".gtif", ".jp2", ".j2k", ".img", ".vrt", ".ntf", ".nitf", ".ecw", ".sid")
MANIFEST_EXTENSIONS = (".csv", ".txt", ".lst")
# A CSV manifest's header may name the column that holds the paths; otherwise it is the first column.
PATH_COLUMNS = ("path", "url", "raster", "scene", "file", "filename", "location")
_GLOB_CHARS = frozenset("*?[")
_SHOWN_MISSING = 3


def collect_inputs(items: Sequence[str]) -> list[str]:
    """Every scene the items name, in order, repeats of one file dropped; one clear error for what is missing."""
    found: list[str] = []
    missing: list[str] = []
    for item in items:
        for path, exists in _expand(item):
            (found if exists else missing).append(path)
    if missing:
        more = f" (and {len(missing) - _SHOWN_MISSING} more)" if len(missing) > _SHOWN_MISSING else ""
        raise RasterInputError(f"input not found: {', '.join(missing[:_SHOWN_MISSING])}{more}")
    scenes, _repeats = unique_inputs(found)
    if not scenes:
        raise RasterInputError(f"no rasters found in {', '.join(items)} (looked for {', '.join(RASTER_EXTENSIONS)})")
    return scenes


def _expand(item: str) -> Iterator[tuple[str, bool]]:
    """(path, exists) pairs for one command-line item: a URL, a folder, a manifest, a raster or a glob."""
    if is_gdal_virtual(item):
        yield item, True  # GDAL decides whether it exists; a worker that cannot open it records the failure
    elif os.path.isdir(item):
        yield from ((path, True) for path in _rasters_in(item))
    elif os.path.isfile(item):
        if item.lower().endswith(MANIFEST_EXTENSIONS):
            yield from _manifest_entries(item)
        else:
            yield os.path.abspath(item), True
    elif not_a_regular_file(item):
        raise RasterInputError(not_a_regular_file(item))
    elif _GLOB_CHARS & set(item):
        matches = sorted(m for m in glob.glob(item, recursive=True) if os.path.isfile(m))
        yield from ((os.path.abspath(m), True) for m in matches) if matches else [(item, False)]
    else:
        yield item, False


def _rasters_in(folder: str) -> list[str]:
    """Raster files below a folder, sorted, hidden files (temporaries, sidecars of other tools) left out."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [
            os.path.abspath(os.path.join(root, name))
            for name in sorted(files)
            if not name.startswith(".") and name.lower().endswith(RASTER_EXTENSIONS)
        ]
    return paths


def _manifest_entries(manifest: str) -> Iterator[tuple[str, bool]]:
    """A manifest's paths (relative ones are relative to the manifest's folder); # starts a comment line."""
    base = os.path.dirname(os.path.abspath(manifest))
    for entry in _manifest_paths(manifest):
        if is_gdal_virtual(entry):
            yield entry, True
        else:
            path = os.path.normpath(os.path.join(base, os.path.expanduser(entry)))
            yield path, os.path.isfile(path)


def _manifest_paths(manifest: str) -> list[str]:
    """The raw entries: one per line, or one per CSV row (the column a header names, else the first)."""
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            if not manifest.lower().endswith(".csv"):
                return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
            rows = [row for row in csv.reader(handle) if row and row[0].strip() and not row[0].startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RasterInputError(f"cannot read the manifest {manifest}: {exc}") from exc
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in PATH_COLUMNS if name in header), None)
    if column is None:
        return [row[0].strip() for row in rows]
    return [row[column].strip() for row in rows[1:] if len(row) > column and row[column].strip()]
