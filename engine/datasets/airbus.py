"""Reader for the Airbus Aircraft sample (Pléiades, 0.5 m, CC BY-NC-SA): images resampled to the
model's gsd with area averaging, boxes scaled by the same factor. The data never enter the repo."""

from __future__ import annotations

import ast
import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import R2cnnError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_AIRBUS_ROOT = REPO_ROOT.parent / "shared" / "datasets" / "airbus-aircraft"
SPLIT_FILE = Path(__file__).with_name("validation_split.txt")
SOURCE_GSD_M = 0.5
TRUNCATED_CLASS = "Truncated_airplane"


class DatasetError(R2cnnError):
    """The dataset folder or its annotations are missing or malformed."""


@dataclass(frozen=True, eq=False)
class LabelledImage:
    """One image at the model gsd with its aircraft boxes in image pixels."""

    image_id: str
    image: np.ndarray  # (H, W, 3) uint8
    boxes_px: np.ndarray  # (B, 4) float32 x0, y0, x1, y1
    truncated: np.ndarray  # (B,) bool: cut by the image border
    valid: np.ndarray | None = None  # (H, W) bool where the image holds data (None: everywhere)


def _annotations_csv(root: str | os.PathLike) -> Path:
    """The annotation file, or a clear error naming what is missing."""
    path = Path(root) / "annotations.csv"
    if not path.is_file():
        raise DatasetError(f"Airbus annotations not found: {path}")
    return path


def _parse_geometry(text: str, where: str) -> tuple[float, float, float, float]:
    """Box (x0, y0, x1, y1) around a polygon string like "[(x, y), ...]", parsed without eval."""
    try:
        points = np.asarray(ast.literal_eval(text), dtype=np.float64)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise DatasetError(f"{where}: unreadable geometry {text!r}") from exc
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 3:
        raise DatasetError(f"{where}: geometry is not a polygon: {text!r}")
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    if x1 <= x0 or y1 <= y0:
        raise DatasetError(f"{where}: empty box {text!r}")
    return float(x0), float(y0), float(x1), float(y1)


def read_annotations(
    root: str | os.PathLike = DEFAULT_AIRBUS_ROOT,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """image_id -> (boxes (B, 4) float32 at the source gsd, truncated (B,) bool), ids without '.jpg'."""
    path = _annotations_csv(root)
    boxes: dict[str, list[tuple[float, ...]]] = {}
    truncated: dict[str, list[bool]] = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"image_id", "geometry", "class"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            image_id = Path(row["image_id"]).stem
            boxes.setdefault(image_id, []).append(_parse_geometry(row["geometry"], f"{path}:{line}"))
            truncated.setdefault(image_id, []).append(row["class"] == TRUNCATED_CLASS)
    return {
        image_id: (
            np.asarray(boxes[image_id], dtype=np.float32).reshape(-1, 4),
            np.asarray(truncated[image_id]),
        )
        for image_id in boxes
    }


def list_image_ids(root: str | os.PathLike = DEFAULT_AIRBUS_ROOT) -> list[str]:
    """Sorted ids of the annotated images that are present in images/."""
    images = Path(root) / "images"
    return sorted(image_id for image_id in read_annotations(root) if (images / f"{image_id}.jpg").is_file())


def load_image(
    root: str | os.PathLike,
    image_id: str,
    gsd_m: float = 2.0,
    source_gsd_m: float = SOURCE_GSD_M,
    annotations: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> LabelledImage:
    """The image resampled to gsd_m by area averaging (PIL BOX), boxes scaled by the same factors."""
    from PIL import Image

    if gsd_m <= 0 or source_gsd_m <= 0:
        raise ValueError(f"gsd must be positive, got {gsd_m} and {source_gsd_m}")
    path = Path(root) / "images" / f"{image_id}.jpg"
    if not path.is_file():
        raise DatasetError(f"image not found: {path}")
    annotations = read_annotations(root) if annotations is None else annotations
    boxes, truncated = annotations.get(image_id, (np.zeros((0, 4), np.float32), np.zeros(0, bool)))
    with Image.open(path) as source:
        rgb = source.convert("RGB")
    width, height = rgb.size
    factor = source_gsd_m / gsd_m
    new_size = (max(1, round(width * factor)), max(1, round(height * factor)))
    if new_size != (width, height):
        rgb = rgb.resize(new_size, Image.Resampling.BOX)
    scale = np.array([new_size[0] / width, new_size[1] / height] * 2, dtype=np.float32)
    limits = np.array([new_size[0], new_size[1]] * 2, dtype=np.float32)
    scaled = np.clip(boxes * scale, 0.0, limits).astype(np.float32)
    return LabelledImage(image_id, np.asarray(rgb, dtype=np.uint8), scaled, truncated.copy())


def validation_ids() -> list[str]:
    """The fixed validation image ids (never trained on), from validation_split.txt."""
    lines = SPLIT_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def training_ids(root: str | os.PathLike = DEFAULT_AIRBUS_ROOT) -> list[str]:
    """All annotated images present, minus the validation split."""
    held_out = set(validation_ids())
    return [image_id for image_id in list_image_ids(root) if image_id not in held_out]


def split_ids(split: str, root: str | os.PathLike = DEFAULT_AIRBUS_ROOT) -> list[str]:
    """Ids of a named split: 'val', 'train' or 'all' (val limited to the images present)."""
    if split == "train":
        return training_ids(root)
    present = list_image_ids(root)
    if split == "all":
        return present
    if split == "val":
        held_out = set(validation_ids())
        return [image_id for image_id in present if image_id in held_out]
    raise ValueError(f"unknown split {split!r} (val, train or all)")


def airbus_rasters(root: str | os.PathLike = DEFAULT_AIRBUS_ROOT, split: str = "all"):
    """The split as LabelledRasters (the reader interface): JPEGs at 0.5 m, boxes in their pixels, running ids."""
    from engine.datasets.labelled import LabelledRaster, LabelledSet

    if not Path(root).is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    annotations = read_annotations(root)
    items, first_id = [], 0
    for image_id in split_ids(split, root):
        boxes, _ = annotations.get(image_id, (np.zeros((0, 4), np.float32), np.zeros(0, bool)))
        ids = np.arange(first_id, first_id + len(boxes))
        first_id += len(boxes)
        path = str(Path(root) / "images" / f"{image_id}.jpg")
        items.append(LabelledRaster(path, boxes, ids, name=image_id, gsd_m=SOURCE_GSD_M, reference="annotations.csv"))
    if not items:
        raise DatasetError(f"no images in the {split} split under {root}")
    return LabelledSet(tuple(items), f"Airbus {split} split of {root} ({len(items)} images)")
