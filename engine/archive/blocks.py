"""One scene as blocks of windows: the tile grid cut along the stream's own window grouping into rectangles,
each streamed on its own (a Dask task), their boxes put back in the order one stream yields them and merged
by the one cross-patch merge (merge_boxes, IoS): the answer is the single run's, box for box.

Why it is the same: every patch sees the same pixels (same windows, the scene's one stretch, one nodata
pre-screen decided for the whole grid), so every patch gives the same boxes; merge_boxes then runs once over
all of them in the single stream's order, so clusters across block edges form exactly as inside a block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig
from engine.pipeline.candidates import Candidates
from engine.pipeline.detect import SceneFindings
from engine.pipeline.merge import merge_boxes
from engine.pipeline.patch_stream import PatchCounts, StreamResult, stream_patches
from engine.pipeline.raster_reader import bounded_gdal_cache, open_model_scene
from engine.pipeline.run_plan import RunPlan
from engine.pipeline.window_plan import grid_index, group_axis, iter_windows
from engine.runtime.types import Detector


@dataclass(frozen=True)
class BlockTask:
    """One rectangle of a scene's tile grid, with what makes its patches read as in the whole-scene run."""

    path: str
    config: DetectConfig  # model_path resolved: every worker loads the same file
    plan: RunPlan
    patch_ids: np.ndarray  # (B,) ascending indices into the scene's tile grid
    origins_model_px: np.ndarray  # (B, 2) those patches' origins: a full sub-grid
    prescreened: np.ndarray  # (B,) bool, from the scene-wide nodata pre-screen
    stretch: object  # the scene's one mapping to 8 bits (Stretch or LocalStretch)
    region_px: tuple[int, int, int, int]  # the processed region in raster px (boxes are clipped to it)
    model_threads: int | None = None


@dataclass(frozen=True)
class BlockResult:
    """A block's clipped boxes (patch ids of the whole grid), counts and gate scores."""

    patch_ids: np.ndarray
    candidates: Candidates
    counts: PatchCounts
    gate_scores: np.ndarray  # (B,) per patch of the block


def plan_blocks(origins_model_px: np.ndarray, per_window: int, align_px: int, block_patches: int) -> list[np.ndarray]:
    """The grid's patch indices in rectangles of whole windows, about block_patches each (one: no split).

    The cuts fall between the window groups that stream_patches forms over the whole grid; group_axis starts
    afresh at each group, so a block's own stream forms the very same windows.
    """
    origins = np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2)
    if len(origins) <= block_patches or len(origins) < 2:
        return [np.arange(len(origins))]
    index = grid_index(origins)
    xs, ys = origins[index[0, :], 0].tolist(), origins[index[:, 0], 1].tolist()
    side = max(1, math.isqrt(block_patches))
    rows = _spans([len(g) for g in group_axis(ys, per_window, align_px)], side)
    cols = _spans([len(g) for g in group_axis(xs, per_window, align_px)], side)
    return [index[r0:r1, c0:c1].ravel() for r0, r1 in rows for c0, c1 in cols]


def _spans(group_lengths: list[int], side: int) -> list[tuple[int, int]]:
    """Consecutive groups in as few spans of about `side` patches as hold them, the spans as even as the
    groups allow (a group larger than side stands alone): blocks of one scene take about as long."""
    total = sum(group_lengths)
    count = max(1, math.ceil(total / side))
    spans, start, length, done = [], 0, 0, 0
    for size in group_lengths:
        length += size
        done += size
        if done >= total * (len(spans) + 1) / count - size / 2 and len(spans) < count - 1:
            spans.append((start, start + length))
            start, length = start + length, 0
    if length:
        spans.append((start, start + length))
    return spans


def window_ranks(origins_model_px: np.ndarray, per_window: int, align_px: int) -> np.ndarray:
    """(T,) the position of each patch's window in the whole-grid stream: the order boxes are collected in."""
    ranks = np.zeros(len(origins_model_px), dtype=np.int64)
    for rank, window in enumerate(iter_windows(origins_model_px, per_window, align_px)):
        ranks[window.patch_index.ravel()] = rank
    return ranks


def run_block(task: BlockTask, detector: Detector) -> BlockResult:
    """Stream the block's patches through the detector, as the whole-scene run streams them."""
    scene = open_model_scene(task.path, detector.config, task.config)
    with scene, bounded_gdal_cache():
        scene.adopt_stretch(task.stretch)
        stream = stream_patches(scene, detector, task.origins_model_px, task.plan.stream, None, task.prescreened)
    found = stream.candidates.clipped(task.region_px, task.plan.score_filter)
    found = Candidates(found.boxes_raster_px, found.scores, found.patch_scores, task.patch_ids[found.patch_ids])
    return BlockResult(task.patch_ids, found, stream.counts, stream.gate_scores)


def join_blocks(
    parts: list[BlockResult], origins_model_px: np.ndarray, ranks: np.ndarray, plan: RunPlan
) -> SceneFindings:
    """Every block's boxes in the whole-grid stream's order, merged once by IoS: detect_scene's answer."""
    boxes = [p.candidates.boxes_raster_px for p in parts]
    joined = Candidates(
        np.concatenate(boxes) if boxes else np.zeros((0, 4)),
        np.concatenate([p.candidates.scores for p in parts]) if parts else np.zeros(0),
        np.concatenate([p.candidates.patch_scores for p in parts]) if parts else np.zeros(0),
        np.concatenate([p.candidates.patch_ids for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64),
    )
    within = np.concatenate([np.arange(len(p.candidates)) for p in parts]) if parts else np.zeros(0, np.int64)
    joined = joined.select(np.lexsort((within, joined.patch_ids, ranks[joined.patch_ids])))
    merged, best = merge_boxes(joined.boxes_raster_px, joined.scores, plan.merge_ios, joined.patch_ids)
    gate_scores = np.full(len(origins_model_px), np.nan)
    for part in parts:
        gate_scores[part.patch_ids] = part.gate_scores
    stream = StreamResult(joined, _summed([p.counts for p in parts]), gate_scores)
    return SceneFindings(
        merged, joined.scores[best], joined.patch_scores[best], origins_model_px, stream, len(joined)
    )


def _summed(counts: list[PatchCounts]) -> PatchCounts:
    """The blocks' counts added up; stage seconds are summed over blocks (CPU time, not wall time)."""
    total = PatchCounts()
    for part in counts:
        total.skipped += part.skipped
        total.prescreened += part.prescreened
        total.passed += part.passed
        total.windows += part.windows
        for name, seconds in part.seconds.items():
            total.seconds[name] = total.seconds.get(name, 0.0) + seconds
    return total
