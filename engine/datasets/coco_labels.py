"""Reference boxes from a COCO JSON (a labelling tool's export) with its images: read by pycocotools,
boxes (x, y, w, h) in image pixels, an optional category filter by name, crowd regions left out."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Sequence

import numpy as np

from engine.datasets.airbus import DatasetError
from engine.datasets.labelled import LabelledRaster, LabelledSet


def read_coco(
    json_path: str, images_dir: str | None = None, class_values: Sequence[str] = (), gsd_m: float | None = None
) -> LabelledSet:
    """Every image of the JSON (sorted by id) with its annotations of the wanted categories.

    images_dir: where file_name is relative to (default: the JSON's folder). gsd_m: ground size of a pixel
    for images without georeference (plain PNG / JPEG); georeferenced images keep their own.
    """
    from pycocotools.coco import COCO

    from engine.datasets.vector_labels import ground_resolution

    data = _load(json_path)
    folder = images_dir if images_dir is not None else os.path.dirname(os.path.abspath(json_path))
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress on stdout
        coco = COCO()
        coco.dataset = data
        coco.createIndex()
    categories = {c["id"]: str(c.get("name", c["id"])) for c in data.get("categories", [])}
    wanted = set(class_values)
    if wanted and not wanted & set(categories.values()):
        raise DatasetError(
            f"{json_path}: no category named {', '.join(sorted(wanted))} "
            f"(categories: {', '.join(sorted(categories.values())) or 'none'})"
        )
    category_ids = [i for i, name in categories.items() if not wanted or name in wanted]
    items, crowd, other = [], 0, 0
    for image_id in sorted(coco.getImgIds()):
        info = coco.loadImgs(image_id)[0]
        path = os.path.join(folder, str(info.get("file_name", "")))
        if not os.path.isfile(path):
            raise DatasetError(f"{json_path}: image {info.get('file_name')!r} (id {image_id}) not found in {folder}")
        boxes, ids = [], []
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])):
            if ann.get("iscrowd", 0):
                crowd += 1
                continue
            if wanted and ann.get("category_id") not in category_ids:
                other += 1
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            if w > 0 and h > 0:
                boxes.append((x, y, x + w, y + h))
                ids.append(int(ann["id"]))
        frame = _checked_frame(path, info, json_path)
        gsd = ground_resolution(frame, gsd_m)  # georeferenced images keep their own
        items.append(LabelledRaster(path, np.asarray(boxes).reshape(-1, 4), ids, gsd_m=gsd, reference=json_path))
    if not items:
        raise DatasetError(f"{json_path} lists no images")
    notes = [f"{json_path}: {crowd} crowd region(s) left out"] if crowd else []
    notes += [f"{json_path}: {other} annotation(s) of other categories left out"] if other else []
    kept = f", categories {', '.join(sorted(wanted))}" if wanted else ""
    return LabelledSet(tuple(items), f"COCO {os.path.basename(json_path)} ({len(items)} images{kept})", tuple(notes))


def _load(json_path: str) -> dict:
    """The JSON, checked for the keys COCO needs."""
    if not os.path.isfile(json_path):
        raise DatasetError(f"COCO file not found: {json_path}")
    try:
        with open(json_path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{json_path} is not a JSON file ({exc})") from exc
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise DatasetError(f"{json_path} is not COCO: it needs 'images' and 'annotations'")
    _check_types(data, json_path)
    return data


def _check_types(data: dict, json_path: str) -> None:
    """COCO's types, each wrong one named: integer ids, text file names, bbox of four finite numbers."""
    def fail(what: str) -> None:
        raise DatasetError(f"{json_path}: {what}")

    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key, []), list) or not all(isinstance(e, dict) for e in data.get(key, [])):
            fail(f"'{key}' must be a list of objects")
    image_ids = set()
    for image in data["images"]:
        if not _is_int(image.get("id")):
            fail(f"image {image.get('file_name', '?')!r} has id {image.get('id')!r}, not an integer")
        if image["id"] in image_ids:
            fail(f"image id {image['id']} is listed twice")
        image_ids.add(image["id"])
        if not isinstance(image.get("file_name"), str) or not image["file_name"]:
            fail(f"image {image['id']} has file_name {image.get('file_name')!r}, not a file name")
        for size in ("width", "height"):
            if size in image and not (_is_int(image[size]) and image[size] > 0):
                fail(f"image {image['id']} has {size} {image[size]!r}, not a positive integer")
    for category in data.get("categories", []):
        if not _is_int(category.get("id")):
            fail(f"category {category.get('name', '?')!r} has id {category.get('id')!r}, not an integer")
    for ann in data["annotations"]:
        where = f"annotation {ann.get('id', '?')!r}"
        if not all(_is_int(ann.get(key)) for key in ("id", "image_id")):
            fail(f"{where} lacks an integer id and image_id")
        if ann["image_id"] not in image_ids:
            fail(f"{where} is on image {ann['image_id']}, which 'images' does not list")
        bbox = ann.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_finite_number(v) for v in bbox)):
            fail(f"{where} has bbox {bbox!r}, not [x, y, w, h] of four finite numbers")
        if "category_id" in ann and not _is_int(ann["category_id"]):
            fail(f"{where} has category_id {ann['category_id']!r}, not an integer")
        if ann.get("iscrowd", 0) not in (0, 1):
            fail(f"{where} has iscrowd {ann['iscrowd']!r}, not 0 or 1")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _checked_frame(path: str, info: dict, json_path: str):
    """The image's header; the JSON's width / height must be the file's (else the boxes belong to another image)."""
    from engine.datasets.vector_labels import raster_frame

    frame = raster_frame(path)
    width, height = info.get("width"), info.get("height")
    if width is not None and height is not None and (int(width), int(height)) != (frame.width_px, frame.height_px):
        raise DatasetError(
            f"{json_path}: image {info.get('file_name')!r} is {frame.width_px} x {frame.height_px} px, "
            f"the JSON says {width} x {height}"
        )
    return frame
