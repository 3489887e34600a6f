"""The records of the one reader interface for labelled data (engine.datasets.readers.read_labelled): rasters
on disk with reference boxes in their own pixels, so evaluation and fine-tuning stream them through the same
scene reader and radiometry as `r2cnn detect`."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class LabelledRaster:
    """A raster file and its reference boxes (x0, y0, x1, y1) in that raster's pixels, never loaded whole."""

    path: str  # anything GDAL opens
    boxes_raster_px: np.ndarray  # (B, 4) float64
    reference_ids: np.ndarray  # (B,) int64: feature id, COCO annotation id or CSV row (the layers' matched_id)
    name: str = ""  # shown in tables and layers (default: the file name)
    gsd_m: float | None = None  # ground size of a pixel when the raster has no georeference (COCO / Airbus images)
    reference: str = ""  # where the boxes came from (vector, JSON or CSV)
    notes: tuple[str, ...] = ()  # warnings met while reading (reprojection, polygons outside, ...)

    def __post_init__(self):
        object.__setattr__(self, "boxes_raster_px", np.asarray(self.boxes_raster_px, np.float64).reshape(-1, 4))
        object.__setattr__(self, "reference_ids", np.asarray(self.reference_ids, np.int64).reshape(-1))
        if len(self.reference_ids) != len(self.boxes_raster_px):
            raise ValueError(f"{len(self.boxes_raster_px)} boxes but {len(self.reference_ids)} ids")
        if not self.name:
            object.__setattr__(self, "name", os.path.basename(self.path))


@dataclass(frozen=True)
class LabelledSet:
    """What a reader returns: the labelled rasters in a fixed order and what the user should know."""

    items: tuple[LabelledRaster, ...]
    description: str  # one line naming the source, for reports
    notes: tuple[str, ...] = ()

    @property
    def n_references(self) -> int:
        return int(sum(len(item.boxes_raster_px) for item in self.items))

    def all_notes(self) -> list[str]:
        """The set's notes, then each raster's; 'LAYER: what' said of several layers is said once, counted."""
        return collapse_repeats([*self.notes, *(note for item in self.items for note in item.notes)])


def collapse_repeats(notes: list[str]) -> list[str]:
    """Notes 'NAME: text' whose text several names share become one 'text: N files (a, b, ...)', in place of
    the first; others stay as they are (30 identical reprojection warnings are one)."""
    by_text: dict[str, list[str]] = {}
    for note in notes:
        name, sep, text = note.partition(": ")
        if sep and name and text:
            by_text.setdefault(text, []).append(name)
    out, said = [], set()
    for note in notes:
        name, sep, text = note.partition(": ")
        names = by_text.get(text, []) if sep else []
        if len(set(names)) < 2:
            out.append(note)
        elif text not in said:
            said.add(text)
            shown = ", ".join(list(dict.fromkeys(names))[:3]) + (", ..." if len(set(names)) > 3 else "")
            out.append(f"{text}: {len(set(names))} files ({shown})")
    return out


@dataclass(frozen=True)
class LabelSource:
    """Which labelled data to read (engine.datasets.readers.read_labelled); exactly one of pairs, coco or airbus."""

    pairs: tuple[tuple[str, str], ...] = ()  # (raster, vector[|layername=NAME])
    coco: str | None = None  # COCO JSON; images relative to coco_images (default: the JSON's folder)
    coco_images: str | None = None
    airbus: str | None = None  # Airbus-form folder
    airbus_split: str = "all"
    class_field: str | None = None  # vector attribute holding the class (pairs)
    class_values: tuple[str, ...] = ()  # keep only these classes (a vector field's values or COCO category names)
    gsd_m: float | None = None  # ground size of a pixel for images without georeference


def parse_pair(text: str) -> tuple[str, str]:
    """'RASTER=VECTOR' -> (raster, vector); the first '=' separates them (a layer name may hold more)."""
    raster, sep, vector = text.partition("=")
    if not sep or not raster or not vector:
        raise ValueError(f"expected RASTER=VECTOR, got {text!r}")
    return raster, vector
