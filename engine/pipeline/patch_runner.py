"""The scene's patches through the network in batches, reading the next windows while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.pipeline.merge import clip_to_region, patch_to_raster_px
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.read_ahead import ReadAhead
from engine.runtime.types import Detector


@dataclass(frozen=True)
class Candidates:
    """Every box of every patch in raster px, before the cross-patch merge."""

    boxes_raster_px: np.ndarray  # (C, 4)
    scores: np.ndarray  # (C,)
    patch_scores: np.ndarray  # (C,) gate score of the patch each box came from

    def __len__(self) -> int:
        return len(self.scores)

    def select(self, keep: np.ndarray) -> Candidates:
        """The candidates where keep is True."""
        return Candidates(self.boxes_raster_px[keep], self.scores[keep], self.patch_scores[keep])

    def clipped(self, region_px: tuple[float, float, float, float], min_score: float) -> Candidates:
        """Boxes clipped to the processed region (padding is not ground) and scoring >= min_score."""
        boxes, keep = clip_to_region(self.boxes_raster_px, region_px)
        keep &= self.scores >= min_score
        return Candidates(boxes, self.scores, self.patch_scores).select(keep)


@dataclass
class PatchCounts:
    """What happened to the patches, and where the time went."""

    skipped: int = 0  # all nodata or a single value: never reached the network
    passed: int = 0  # went through the detector (gate score >= threshold)
    seconds: dict[str, float] = field(default_factory=dict)


def run_patches(
    scene: RasterScene,
    detector: Detector,
    origins_model_px: np.ndarray,
    tile_px: int,
    gate_threshold: float,
    batch_size: int,
    on_patch: Callable[[int], None],
) -> tuple[Candidates, PatchCounts]:
    """Read ahead -> skip empty patches -> trunk + gate + detector per batch -> boxes in raster px.

    on_patch(done) runs after each patch is handled: progress and the cancellation check live there.
    """
    boxes, scores, patch_scores = [], [], []
    counts = PatchCounts()
    pending: list[tuple[int, np.ndarray]] = []
    network_seconds = 0.0

    def run_batch() -> None:
        nonlocal network_seconds
        started = time.perf_counter()
        result = detector(np.stack([image for _, image in pending]), gate_threshold)
        network_seconds += time.perf_counter() - started
        counts.passed += int(np.count_nonzero(np.asarray(result.gate_scores) >= gate_threshold))
        for (index, _), gate_score, patch in zip(pending, result.gate_scores, result.detections, strict=True):
            if len(patch.scores):
                origin = (int(origins_model_px[index][0]), int(origins_model_px[index][1]))
                boxes.append(patch_to_raster_px(patch.boxes_patch_px, origin, scene.scale_xy))
                scores.append(np.asarray(patch.scores, dtype=np.float64))
                patch_scores.append(np.full(len(patch.scores), float(gate_score)))
        pending.clear()

    with ReadAhead(
        lambda origin: scene.read_patch(origin, tile_px), origins_model_px, 2 * batch_size
    ) as reader:
        for done, (index, patch) in enumerate(reader, start=1):
            if patch.skip:
                counts.skipped += 1
            else:
                pending.append((index, patch.image_u8))
            if len(pending) == batch_size or (done == len(origins_model_px) and pending):
                run_batch()
            on_patch(done)
    counts.seconds = {
        "read": reader.read_seconds,
        "read_wait": reader.wait_seconds,
        "network": network_seconds,
    }
    candidates = Candidates(
        np.concatenate(boxes) if boxes else np.zeros((0, 4)),
        np.concatenate(scores) if scores else np.zeros((0,)),
        np.concatenate(patch_scores) if patch_scores else np.zeros((0,)),
    )
    return candidates, counts
