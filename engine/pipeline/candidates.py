"""Every box of every patch in raster px, collected across the stream before the cross-patch merge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.pipeline.merge import clip_to_region, patch_to_raster_px
from engine.runtime.types import PatchDetections


@dataclass(frozen=True)
class Candidates:
    """Every box of every patch in raster px, before the cross-patch merge."""

    boxes_raster_px: np.ndarray  # (C, 4)
    scores: np.ndarray  # (C,)
    patch_scores: np.ndarray  # (C,) gate score of the patch each box came from
    patch_ids: np.ndarray  # (C,) int64 index of that patch in the tile grid

    def __len__(self) -> int:
        return len(self.scores)

    def select(self, keep: np.ndarray) -> Candidates:
        """The candidates where keep is True."""
        return Candidates(
            self.boxes_raster_px[keep], self.scores[keep], self.patch_scores[keep], self.patch_ids[keep]
        )

    def clipped(self, region_px: tuple[float, float, float, float], min_score: float | None = None) -> Candidates:
        """Boxes clipped to the processed region (padding is not ground), and scoring >= min_score unless None
        (RunPlan.score_filter: None when the detector already applied the run's threshold)."""
        boxes, keep = clip_to_region(self.boxes_raster_px, region_px)
        if min_score is not None:
            keep &= self.scores >= min_score
        return Candidates(boxes, self.scores, self.patch_scores, self.patch_ids).select(keep)


class CandidateCollector:
    """Per-patch detections -> boxes in raster px with their scores."""

    def __init__(self, scale_xy: tuple[float, float]):
        self.scale_xy = scale_xy
        self._boxes: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._patch_scores: list[np.ndarray] = []
        self._patch_ids: list[np.ndarray] = []

    def add(self, patch_id: int, origin_model_px, gate_score: float, patch: PatchDetections) -> None:
        """One patch's boxes, shifted by its origin and scaled to raster px."""
        if len(patch.scores):
            origin = (int(origin_model_px[0]), int(origin_model_px[1]))
            self._boxes.append(patch_to_raster_px(patch.boxes_patch_px, origin, self.scale_xy))
            self._scores.append(np.asarray(patch.scores, dtype=np.float64))
            self._patch_scores.append(np.full(len(patch.scores), float(gate_score)))
            self._patch_ids.append(np.full(len(patch.scores), int(patch_id), dtype=np.int64))

    def candidates(self) -> Candidates:
        return Candidates(
            np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4)),
            np.concatenate(self._scores) if self._scores else np.zeros((0,)),
            np.concatenate(self._patch_scores) if self._patch_scores else np.zeros((0,)),
            np.concatenate(self._patch_ids) if self._patch_ids else np.zeros((0,), dtype=np.int64),
        )
