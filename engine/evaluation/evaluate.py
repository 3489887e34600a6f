"""Run a Detector over labelled images through the deployed pipeline (detect_scene: the same tiling,
padding, emptiness rule, patch stream and cross-patch merge as detect_raster) and measure it: VOC table,
gate, COCO AI-TOD bins."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from engine.config import DetectConfig
from engine.datasets.airbus import LabelledImage
from engine.evaluation.box_errors import split_result
from engine.evaluation.coco_eval import coco_metrics
from engine.evaluation.evaluation_report import EvaluationReport
from engine.evaluation.metrics import DEFAULT_SCORE_THRESHOLDS, ImageResult, detection_metrics, gate_metrics
from engine.ops.box_arrays import as_boxes, centres_inside
from engine.pipeline.detect import SceneFindings, detect_scene
from engine.pipeline.run_plan import RunPlan
from engine.pipeline.scene import ImageScene, patch_fill_value


def evaluation_plan(detector, gate_threshold: float, batch_size: int, config: DetectConfig | None = None) -> RunPlan:
    """detect_raster's plan for these settings, keeping every box the detector returns (AP needs them all)."""
    config = config or DetectConfig()
    gated = gate_threshold >= 0
    config = dataclasses.replace(
        config,
        score_threshold=0.0,
        use_gate=gated,
        gate_threshold=gate_threshold if gated else None,
        batch_size=batch_size,
    )
    return RunPlan.of(config, detector)


def detect_images(
    detector, images: Iterable[LabelledImage], plan: RunPlan
) -> Iterator[tuple[LabelledImage, SceneFindings]]:
    """Each labelled image through detect_scene, as detect_raster runs a raster (the model's fill value
    for padding and for the pixels outside item.valid)."""
    fill_value = patch_fill_value(detector.config)
    for item in images:
        with ImageScene(item.image, fill_value, item.valid, name=item.image_id) as scene:
            yield item, detect_scene(scene, detector, plan)


def evaluate_detector(
    detector,
    images: Iterable[LabelledImage],
    gate_threshold: float,
    score_thresholds: Sequence[float] = DEFAULT_SCORE_THRESHOLDS,
    batch_size: int = 4,
    gate_report_threshold: float | None = None,
    with_coco: bool = True,
    progress: Callable[[int], None] | None = None,
    config: DetectConfig | None = None,
) -> EvaluationReport:
    """Detect on every image as detect_raster would (gate_threshold < 0: no gate) and report the metrics.

    config: the detect settings to mirror (window size, merge IoS, pre-screen; default DetectConfig()).
    Gate recall/precision are reported at gate_report_threshold (default: gate_threshold, or the
    model's recommended one when the gate is off) over the patches that reached the network; a patch is
    positive when an aircraft centre is in it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    plan = evaluation_plan(detector, gate_threshold, batch_size, config)
    pairs = (
        (ImageResult(found.boxes_raster_px, found.scores, as_boxes(item.boxes_px)), found)
        for item, found in detect_images(detector, images, plan)
    )
    return findings_report(pairs, plan, detector, score_thresholds, gate_report_threshold, with_coco, progress)


def findings_report(
    pairs: Iterable[tuple[ImageResult, SceneFindings]],
    plan: RunPlan,
    detector,
    score_thresholds: Sequence[float] = DEFAULT_SCORE_THRESHOLDS,
    gate_report_threshold: float | None = None,
    with_coco: bool = True,
    progress: Callable[[int], None] | None = None,
) -> EvaluationReport:
    """The report over (boxes and truth in model px, what detect_scene found) pairs: in-memory images and
    whole rasters alike. Gate figures at gate_report_threshold (default: the plan's, or the model's when off)."""
    report_threshold = plan.settings.gate_threshold if gate_report_threshold is None else gate_report_threshold
    started = time.perf_counter()
    results: list[ImageResult] = []  # each image split into groups no box crosses (the same metrics, bounded)
    scores, positive, covered = [], [], []
    n_images = 0
    for image_index, (result, found) in enumerate(pairs):
        results += split_result(result)
        n_images += 1
        image_scores, image_positive, image_covered = _gate_record(
            found, as_boxes(result.gt_boxes_px), plan.tile_px, report_threshold
        )
        scores.append(image_scores)
        positive.append(image_positive)
        covered.append(image_covered)
        if progress is not None:
            progress(image_index + 1)
    gate_scores = np.concatenate(scores) if scores else np.zeros(0)
    patch_positive = np.concatenate(positive) if positive else np.zeros(0, bool)
    return EvaluationReport(
        n_images=n_images,
        n_patches=int(gate_scores.size),
        n_patches_passed=int(np.sum(gate_scores >= plan.gate_threshold)),
        patch_size=plan.tile_px,
        gate_threshold_used=float(plan.gate_threshold),
        detection=detection_metrics(results, score_thresholds),
        gate=gate_metrics(gate_scores, patch_positive, report_threshold, np.concatenate(covered) if covered else None),
        coco=coco_metrics(results) if with_coco else None,
        seconds=time.perf_counter() - started,
        device=str(getattr(detector, "device", "?")),
        patch_gate_scores=tuple(float(s) for s in gate_scores),
        patch_positive=tuple(bool(p) for p in patch_positive),
    )


def reached_patches(found: SceneFindings) -> tuple[np.ndarray, np.ndarray]:
    """Origins (R, 2) and gate scores (R,) of the patches that reached the network (not skipped)."""
    reached = np.flatnonzero(np.isfinite(found.stream.gate_scores))
    return found.origins_model_px[reached], found.stream.gate_scores[reached]


def patches_with_aircraft(truth: np.ndarray, origins: np.ndarray, tile_px: int) -> np.ndarray:
    """(R,) bool: the patches holding an aircraft centre (a positive patch for the gate)."""
    return np.array([centres_inside(truth, x, y, tile_px).any() for x, y in origins], dtype=bool)


def _gate_record(
    found: SceneFindings, truth: np.ndarray, tile_px: int, report_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gate scores of the patches that reached the network, whether each holds an aircraft centre, and per
    true aircraft whether its centre lies in a patch passing the report threshold."""
    origins, gate_scores = reached_patches(found)
    covered = np.zeros(len(truth), dtype=bool)
    for (x, y), score in zip(origins, gate_scores, strict=True):
        if score >= report_threshold:
            covered |= centres_inside(truth, x, y, tile_px)
    return gate_scores, patches_with_aircraft(truth, origins, tile_px), covered
