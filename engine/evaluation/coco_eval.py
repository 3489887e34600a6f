"""COCO-style AP and AP50 per AI-TOD size bin (sqrt of box area: very tiny < 8 px, tiny 8-16, small
16-32, medium >= 32), computed by pycocotools itself with its area ranges replaced."""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.evaluation.metrics import ImageResult

# pycocotools compares box *areas*: a side of 8 px is an area of 64 px^2.
AITOD_AREA_RANGES: tuple[tuple[str, float, float], ...] = (
    ("all", 0.0, 1e10),
    ("very_tiny", 0.0, 8.0**2),
    ("tiny", 8.0**2, 16.0**2),
    ("small", 16.0**2, 32.0**2),
    ("medium", 32.0**2, 1e10),
)
DEFAULT_MAX_DETS = (100, 300, 1000)
SIZE_UNIT = "Size: the square root of the box area, in pixels at the model's ground resolution"


def bin_label(name: str) -> str:
    """'tiny (8-16 px)': a bin's name with its bounds, so a table says what the sizes mean."""
    for label, low, high in AITOD_AREA_RANGES:
        if label == name and label != "all":
            low_px, high_px = math.sqrt(low), math.sqrt(high)
            if low_px == 0:
                return f"{label} (< {high_px:g} px)"
            return f"{label} (>= {low_px:g} px)" if high >= 1e10 else f"{label} ({low_px:g}-{high_px:g} px)"
    return name


@dataclass(frozen=True)
class CocoMetrics:
    """AP@[.5:.95] and AP50 per size bin (nan where a bin has no ground truth) at the largest maxDets."""

    ap: dict[str, float]
    ap50: dict[str, float]
    gt_counts: dict[str, int]  # ground truths pycocotools counted in each bin (bounds are inclusive there)
    max_dets: int


def _annotation(annotation_id: int, image_id: int, box: np.ndarray) -> dict:
    """One COCO annotation (x, y, w, h) for an x0, y0, x1, y1 box in image pixels."""
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": 1,
        "iscrowd": 0,
        "bbox": [float(box[0]), float(box[1]), w, h],
        "area": w * h,
    }


def _coco_dicts(results: Sequence[ImageResult]) -> tuple[dict, list[dict]]:
    """Ground truth dataset and detection annotations in COCO form (boxes as x, y, w, h)."""
    images, gt_annotations, detections = [], [], []
    for image_id, result in enumerate(results, start=1):
        images.append({"id": image_id})
        for box in np.asarray(result.gt_boxes_px, dtype=np.float64).reshape(-1, 4):
            gt_annotations.append(_annotation(len(gt_annotations) + 1, image_id, box))
        boxes = np.asarray(result.boxes_px, dtype=np.float64).reshape(-1, 4)
        for box, score in zip(boxes, np.asarray(result.scores, dtype=np.float64).reshape(-1), strict=True):
            detections.append({**_annotation(len(detections) + 1, image_id, box), "score": float(score)})
    categories = [{"id": 1, "name": "aircraft"}]
    return {"images": images, "annotations": gt_annotations, "categories": categories}, detections


def coco_metrics(results: Sequence[ImageResult], max_dets: Sequence[int] = DEFAULT_MAX_DETS) -> CocoMetrics:
    """Run pycocotools' COCOeval with the AI-TOD bins; read its precision array (summarize() would
    print the stock COCO labels for our bins)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_dataset, detections = _coco_dicts(results)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress on stdout
        coco_gt, coco_dt = COCO(), COCO()
        coco_gt.dataset = gt_dataset
        coco_gt.createIndex()
        coco_dt.dataset = {**gt_dataset, "annotations": detections}
        coco_dt.createIndex()
        evaluator = COCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluator.params.areaRng = [[low, high] for _, low, high in AITOD_AREA_RANGES]
        evaluator.params.areaRngLbl = [label for label, _, _ in AITOD_AREA_RANGES]
        evaluator.params.maxDets = sorted(int(m) for m in max_dets)
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"]  # (T iou, R recall, K cat, A area, M maxDets)
    iou_50 = int(np.argmin(np.abs(evaluator.params.iouThrs - 0.5)))
    ap, ap50, counts = {}, {}, {}
    for area_index, (label, _, _) in enumerate(AITOD_AREA_RANGES):
        ap[label] = _mean_valid(precision[:, :, 0, area_index, -1])
        ap50[label] = _mean_valid(precision[iou_50, :, 0, area_index, -1])
        counts[label] = _gt_count(evaluator, area_index)
    return CocoMetrics(ap, ap50, counts, int(evaluator.params.maxDets[-1]))


def _mean_valid(values: np.ndarray) -> float:
    """pycocotools marks undefined entries (no ground truth) with -1."""
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else math.nan


def _gt_count(evaluator, area_index: int) -> int:
    """Ground truths not ignored for this area range, as pycocotools saw them."""
    n_images = len(evaluator.params.imgIds)
    total = 0
    for entry in evaluator.evalImgs[area_index * n_images : (area_index + 1) * n_images]:
        if entry is not None:
            total += int(np.sum(~np.asarray(entry["gtIgnore"], dtype=bool)))
    return total
