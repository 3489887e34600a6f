"""Whole-scene check against known boxes (demo, benchmark, end-to-end test): one-to-one at IoU >= 0.5."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.ops.box_arrays import greedy_match


@dataclass(frozen=True)
class SceneMatch:
    """How many true aircraft were found and how many detections were right."""

    true_count: int
    detected_count: int
    matched: int
    iou_threshold: float

    @property
    def recall(self) -> float:
        return self.matched / self.true_count if self.true_count else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.detected_count if self.detected_count else 1.0

    def describe(self) -> str:
        """One line for the user, saying which criterion counted."""
        return (
            f"recall {self.recall:.3f} ({self.matched}/{self.true_count} aircraft), "
            f"precision {self.precision:.3f} "
            f"({self.detected_count} detections); a match is IoU >= {self.iou_threshold:g}, one to one"
        )


def match_scene(
    detected_boxes: np.ndarray,
    detected_scores: np.ndarray,
    true_boxes: np.ndarray,
    iou_threshold: float = 0.5,
) -> SceneMatch:
    """VOC-style greedy matching: detections by descending score, each takes its best unmatched truth."""
    matching = greedy_match(detected_boxes, detected_scores, true_boxes, iou_threshold)
    return SceneMatch(matching.n_truth, len(matching.truth_index), int(matching.is_tp.sum()), iou_threshold)
