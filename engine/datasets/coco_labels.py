"""Reference boxes from a COCO JSON (a labelling tool's export) with its images: read by pycocotools,
boxes (x, y, w, h) in image pixels, an optional category filter by name, crowd regions left out."""

from __future__ import annotations

import contextlib
import io
import json
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
        gsd = gsd_m if frame.crs_wkt is None else None  # georeferenced images keep their own
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
    for ann in data["annotations"]:
        if "bbox" not in ann or len(ann["bbox"]) != 4 or "image_id" not in ann or "id" not in ann:
            what = f"{json_path}: annotation {ann.get('id', '?')}"
            raise DatasetError(f"{what} lacks an id, image_id or bbox [x, y, w, h]")
    return data


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
