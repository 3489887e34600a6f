"""When a scene was taken: --date-pattern on its file name when given; else the acquisition time GDAL's
metadata readers find (IMAGERY ACQUISITIONDATETIME: DIMAP, IMD and other sidecars GDAL knows), the
DIMAP / IMD / GF-1 XML beside the raster, TIFFTAG_DATETIME, then a date in the file name. A scene with none
of them is undated (reported, never guessed)."""

from __future__ import annotations

import glob
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from engine.atomic_output import is_gdal_virtual
from engine.errors import R2cnnError

# YYYY-MM-DD, YYYY:MM:DD (TIFF), YYYY_MM_DD or YYYYMMDD, not inside a longer run of digits.
_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)([-_:/.]?)(\d\d)\2(\d\d)(?!\d)")
SIDECAR_EXTENSIONS = (".xml", ".XML", ".imd", ".IMD", ".dim", ".DIM")
# XML elements that hold the acquisition time, most specific first: GF-1 / GF-2 (CenterTime, StartTime),
# DIMAP v1 / v2 (IMAGING_DATE), other vendors' START_TIME / ACQUISITION_DATE.
XML_TAGS = ("CenterTime", "StartTime", "IMAGING_DATE", "ACQUISITION_DATE", "START_TIME", "ReceiveTime")
IMD_KEYS = re.compile(r"^\s*(firstLineTime|earliestAcqTime)\s*=\s*\"?([^;\"]+)", re.MULTILINE)


class DatePatternError(R2cnnError):
    """A --date-pattern that is not a regular expression."""


@dataclass(frozen=True)
class SceneDate:
    """A scene's acquisition date and where it was read (None: undated, with the reason in source)."""

    date: date | None
    source: str

    @property
    def iso(self) -> str:
        return self.date.isoformat() if self.date else ""


def parse_date(text: str) -> date | None:
    """The first valid calendar date in text (YYYY-MM-DD, YYYY:MM:DD, YYYYMMDD, ...; time of day ignored)."""
    for match in _DATE.finditer(text or ""):
        try:
            return date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        except ValueError:
            continue
    return None


def compile_pattern(pattern: str | None) -> re.Pattern | None:
    """--date-pattern as a regular expression (its first group, else the whole match, holds the date)."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise DatePatternError(f"--date-pattern {pattern!r} is not a regular expression ({exc})") from exc


def scene_date(path: str, pattern: re.Pattern | None = None) -> SceneDate:
    """The scene's date and its source; see the module docstring for the order."""
    name = os.path.basename(path.rstrip("/"))
    if pattern is not None:
        match = pattern.search(name)
        found = parse_date(match.group(1) if match and match.groups() else match.group(0)) if match else None
        return SceneDate(found, "--date-pattern" if found else f"--date-pattern does not find a date in {name}")
    metadata = _gdal_metadata(path)
    for source, found in (
        ("ACQUISITIONDATETIME", parse_date(metadata.get("ACQUISITIONDATETIME", ""))),
        *_sidecar_dates(path),
        ("TIFFTAG_DATETIME", parse_date(metadata.get("TIFFTAG_DATETIME", ""))),
        ("file name", parse_date(name)),
    ):
        if found is not None:
            return SceneDate(found, source)
    return SceneDate(None, f"no date in the metadata, beside it or in the name of {name}")


def layer_date(names: Sequence[str], rasters: Sequence[str] = (), pattern: re.Pattern | None = None) -> SceneDate:
    """A detection layer's date: --date-pattern on its names; else the date of the first of its rasters that is
    there (scene_date); else a date in one of its names (layer, file, the rasters' names)."""
    if pattern is not None:
        for name in names:
            match = pattern.search(name)
            found = parse_date(match.group(1) if match.groups() else match.group(0)) if match else None
            if found:
                return SceneDate(found, "--date-pattern")
        return SceneDate(None, f"--date-pattern does not find a date in {', '.join(names)}")
    for raster in rasters:
        if is_gdal_virtual(raster) or os.path.isfile(raster):
            dated = scene_date(raster)
            if dated.date is not None:
                return SceneDate(dated.date, f"{os.path.basename(raster)}: {dated.source}")
    for name in names:
        if parse_date(name):
            return SceneDate(parse_date(name), f"name {name}")
    return SceneDate(None, f"no date in {', '.join(names)} nor in its rasters")


def _gdal_metadata(path: str) -> dict[str, str]:
    """Default and IMAGERY metadata domains ({} when GDAL cannot open the file: the name may still tell)."""
    from osgeo import gdal

    if not (is_gdal_virtual(path) or os.path.isfile(path)):
        return {}
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.Open(path)
    except RuntimeError:  # exceptions switched on by a caller
        dataset = None
    finally:
        gdal.PopErrorHandler()
    if dataset is None:
        return {}
    values = dict(dataset.GetMetadata() or {})
    values.update(dataset.GetMetadata("IMAGERY") or {})
    return values


def _sidecar_dates(path: str) -> list[tuple[str, date | None]]:
    """(file, date) from the XML / IMD files beside a local raster: <stem>.xml etc., and DIMAP's DIM_*.XML."""
    if is_gdal_virtual(path):
        return []
    stem, folder = os.path.splitext(path)[0], os.path.dirname(path) or "."
    candidates = [stem + ext for ext in SIDECAR_EXTENSIONS] + sorted(glob.glob(os.path.join(folder, "DIM_*.XML")))
    return [(os.path.basename(c), _file_date(c)) for c in dict.fromkeys(candidates) if os.path.isfile(c)]


def _file_date(path: str) -> date | None:
    """The acquisition date an XML (GF-1, DIMAP) or IMD sidecar holds, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        return None
    match = IMD_KEYS.search(text)
    if match:
        return parse_date(match.group(2))
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    for tag in XML_TAGS:
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == tag and parse_date(element.text or ""):
                return parse_date(element.text or "")
    return None
