"""Run a Detector over labelled images (tiled into model patches like the pipeline does, merged
across patches like the pipeline does) and measure it: VOC table, gate, COCO AI-TOD bins."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.datasets.airbus import LabelledImage
from engine.evaluation.coco_eval import coco_metrics
from engine.evaluation.metrics import (
    DEFAULT_SCORE_THRESHOLDS,
    ImageResult,
    detection_metrics,
    gate_metrics,
)
from engine.evaluation.report import EvaluationReport
from engine.pipeline.merge import merge_boxes
from engine.pipeline.tiling import tile_grid


@dataclass
class _ImageState:
    """Per-image accumulation while its patches go through the detector."""

    width: int
    height: int
    gt_boxes_px: np.ndarray
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    passed_patches: list[tuple[int, int]] = field(default_factory=list)
    n_patches: int = 0


def evaluate_detector(
    detector,
    images: Iterable[LabelledImage],
    gate_threshold: float,
    score_thresholds: Sequence[float] = DEFAULT_SCORE_THRESHOLDS,
    batch_size: int = 4,
    gate_report_threshold: float | None = None,
    with_coco: bool = True,
    progress: Callable[[int], None] | None = None,
) -> EvaluationReport:
    """Detect on every patch of every image (gate_threshold < 0: no gate) and report the metrics.

    Gate recall/precision are reported at gate_report_threshold (default: gate_threshold, or the
    model's recommended one when the gate is off); a patch is positive when an aircraft centre is in it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    patch = int(detector.config.patch_size)
    overlap = float(detector.config.overlap)
    report_threshold = (
        gate_report_threshold
        if gate_report_threshold is not None
        else (gate_threshold if gate_threshold >= 0 else float(detector.config.gate_threshold))
    )
    started = time.perf_counter()
    states: list[_ImageState] = []
    pending: list[tuple[int, int, int, np.ndarray]] = []  # (image index, x0, y0, (3, P, P) float32)
    gate_scores: list[float] = []
    patch_positive: list[bool] = []
    for image_index, item in enumerate(images):
        image = _check_image(item)
        height, width = image.shape[:2]
        gt = np.asarray(item.boxes_px, dtype=np.float64).reshape(-1, 4)
        states.append(_ImageState(width, height, gt))
        origins = (
            [(0, 0)]
            if height <= patch and width <= patch
            else tile_grid(width, height, patch, overlap).tolist()
        )
        for x0, y0 in origins:
            pending.append((image_index, int(x0), int(y0), patch_array(image, int(x0), int(y0), patch)))
            if len(pending) >= batch_size:
                _run_batch(
                    detector, pending, gate_threshold, report_threshold, states, gate_scores, patch_positive
                )
                pending = []
        if progress is not None:
            progress(image_index + 1)
    if pending:
        _run_batch(detector, pending, gate_threshold, report_threshold, states, gate_scores, patch_positive)
    results = [_image_result(state) for state in states]
    covered = np.concatenate([_covered(state, patch) for state in states]) if states else np.zeros(0, bool)
    scores = np.asarray(gate_scores, dtype=np.float64)
    passed = int(np.sum(scores >= gate_threshold)) if gate_threshold >= 0 else int(scores.size)
    return EvaluationReport(
        n_images=len(states),
        n_patches=int(scores.size),
        n_patches_passed=passed,
        patch_size=patch,
        gate_threshold_used=float(gate_threshold),
        detection=detection_metrics(results, score_thresholds),
        gate=gate_metrics(scores, np.asarray(patch_positive, dtype=bool), report_threshold, covered),
        coco=coco_metrics(results) if with_coco else None,
        seconds=time.perf_counter() - started,
        device=str(getattr(detector, "device", "?")),
        patch_gate_scores=tuple(gate_scores),
        patch_positive=tuple(patch_positive),
    )


def _check_image(item: LabelledImage) -> np.ndarray:
    """(H, W, 3) uint8 or a clear error."""
    image = np.asarray(item.image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"{item.image_id}: expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}"
        )
    return image


def patch_array(image: np.ndarray, x0: int, y0: int, patch: int, dtype=np.float32) -> np.ndarray:
    """(3, P, P) 0..255 from an (H, W, 3) image, zero-padded past the image edge."""
    out = np.zeros((3, patch, patch), dtype=dtype)
    crop = image[y0 : y0 + patch, x0 : x0 + patch]
    out[:, : crop.shape[0], : crop.shape[1]] = crop.transpose(2, 0, 1)
    return out


def centres_inside(boxes: np.ndarray, x0: int, y0: int, patch: int) -> np.ndarray:
    """Which boxes have their centre in the patch window."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return (cx >= x0) & (cx < x0 + patch) & (cy >= y0) & (cy < y0 + patch)


def _run_batch(
    detector, pending, gate_threshold, report_threshold, states, gate_scores, patch_positive
) -> None:
    """One detector call; boxes go back to their image in image pixels."""
    batch = np.stack([entry[3] for entry in pending])
    result = detector(batch, float(gate_threshold))
    scores = np.asarray(result.gate_scores, dtype=np.float64).reshape(-1)
    if scores.size != len(pending) or len(result.detections) != len(pending):
        raise ValueError(
            f"detector returned {scores.size} gate scores / {len(result.detections)} detections "
            f"for {len(pending)} patches"
        )
    patch = batch.shape[-1]
    for (image_index, x0, y0, _), score, found in zip(pending, scores, result.detections, strict=True):
        state = states[image_index]
        state.n_patches += 1
        gate_scores.append(float(score))
        patch_positive.append(bool(centres_inside(state.gt_boxes_px, x0, y0, patch).any()))
        if score >= report_threshold:
            state.passed_patches.append((x0, y0))
        boxes = np.asarray(found.boxes_patch_px, dtype=np.float64).reshape(-1, 4)
        state.boxes.append(boxes + np.array([x0, y0, x0, y0], dtype=np.float64))
        state.scores.append(np.asarray(found.scores, dtype=np.float64).reshape(-1))


def _image_result(state: _ImageState) -> ImageResult:
    """All detections of an image, merged across patch overlaps (IoS, like the pipeline) and clipped."""
    boxes = np.concatenate(state.boxes) if state.boxes else np.zeros((0, 4))
    scores = np.concatenate(state.scores) if state.scores else np.zeros(0)
    if state.n_patches > 1 and len(boxes):
        boxes, leaders = merge_boxes(boxes, scores, ios_threshold=0.5)
        scores = scores[leaders]
    boxes = np.clip(
        boxes, 0.0, np.array([state.width, state.height, state.width, state.height], dtype=np.float64)
    )
    return ImageResult(boxes, scores, state.gt_boxes_px)


def _covered(state: _ImageState, patch: int) -> np.ndarray:
    """Per true aircraft: whether its centre lies in a patch that passed the gate report threshold."""
    covered = np.zeros(len(state.gt_boxes_px), dtype=bool)
    for x0, y0 in state.passed_patches:
        covered |= centres_inside(state.gt_boxes_px, x0, y0, patch)
    return covered
