"""The scene's patches through the network in batches, reading the next windows while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.pipeline.merge import clip_to_region, patch_to_raster_px
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.read_ahead import ReadAhead
from engine.runtime.types import Detector, PatchDetections


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
    prescreened: int = 0  # of those, skipped from the decimated nodata mask without being read
    passed: int = 0  # went through the detector (gate score >= threshold)
    windows: int = 0  # window-graph calls (0: the per-patch path)
    seconds: dict[str, float] = field(default_factory=dict)


class CandidateCollector:
    """Per-patch detections -> boxes in raster px with their scores, for either runner."""

    def __init__(self, scale_xy: tuple[float, float]):
        self.scale_xy = scale_xy
        self._boxes: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._patch_scores: list[np.ndarray] = []

    def add(self, origin_model_px, gate_score: float, patch: PatchDetections) -> None:
        """One patch's boxes, shifted by its origin and scaled to raster px."""
        if len(patch.scores):
            origin = (int(origin_model_px[0]), int(origin_model_px[1]))
            self._boxes.append(patch_to_raster_px(patch.boxes_patch_px, origin, self.scale_xy))
            self._scores.append(np.asarray(patch.scores, dtype=np.float64))
            self._patch_scores.append(np.full(len(patch.scores), float(gate_score)))

    def candidates(self) -> Candidates:
        return Candidates(
            np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4)),
            np.concatenate(self._scores) if self._scores else np.zeros((0,)),
            np.concatenate(self._patch_scores) if self._patch_scores else np.zeros((0,)),
        )


def run_patches(
    scene: RasterScene,
    detector: Detector,
    origins_model_px: np.ndarray,
    tile_px: int,
    gate_threshold: float,
    batch_size: int,
    on_patch: Callable[[int], None],
    prescreened: np.ndarray | None = None,
) -> tuple[Candidates, PatchCounts]:
    """Read ahead -> skip empty patches -> trunk + gate + detector per batch -> boxes in raster px.

    prescreened (T,) bool marks patches known to be nodata (prescreen.nodata_patches): never read.
    on_patch(done) runs after each patch is handled: progress and the cancellation check live there.
    """
    collector = CandidateCollector(scene.scale_xy)
    counts = PatchCounts()
    pending: list[tuple[int, np.ndarray]] = []
    network_seconds = 0.0
    to_read = np.flatnonzero(~prescreened) if prescreened is not None else np.arange(len(origins_model_px))
    counts.prescreened = counts.skipped = len(origins_model_px) - len(to_read)
    if counts.prescreened:
        on_patch(counts.prescreened)

    def run_batch() -> None:
        nonlocal network_seconds
        started = time.perf_counter()
        result = detector(np.stack([image for _, image in pending]), gate_threshold)
        network_seconds += time.perf_counter() - started
        counts.passed += int(np.count_nonzero(np.asarray(result.gate_scores) >= gate_threshold))
        for (index, _), gate_score, patch in zip(pending, result.gate_scores, result.detections, strict=True):
            collector.add(origins_model_px[index], gate_score, patch)
        pending.clear()

    def read(index: int):
        x0, y0 = origins_model_px[index]
        return scene.read_patch((int(x0), int(y0)), tile_px)

    with ReadAhead(read, to_read, 2 * batch_size) as reader:
        for done, (position, patch) in enumerate(reader, start=1):
            if patch.skip:
                counts.skipped += 1
            else:
                pending.append((int(to_read[position]), patch.image_u8))
            if len(pending) == batch_size or (done == len(to_read) and pending):
                run_batch()
            on_patch(counts.prescreened + done)
    counts.seconds = {
        "read": reader.read_seconds,
        "read_wait": reader.wait_seconds,
        "network": network_seconds,
    }
    return collector.candidates(), counts
