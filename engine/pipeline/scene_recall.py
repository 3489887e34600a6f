"""Whole-scene check against known boxes (demo, benchmark, end-to-end test): one-to-one at IoU >= 0.5."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def pairwise_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(A, B) IoU of pixel-edge (x0, y0, x1, y1) boxes."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(1, -1, 4)
    ix = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ix * iy
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def match_scene(
    detected_boxes: np.ndarray,
    detected_scores: np.ndarray,
    true_boxes: np.ndarray,
    iou_threshold: float = 0.5,
) -> SceneMatch:
    """VOC-style greedy matching: detections by descending score, each takes its best unmatched truth."""
    detected = np.asarray(detected_boxes, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4)
    matched_truth = np.zeros(len(truth), dtype=bool)
    if len(detected) and len(truth):
        for index in np.argsort(-np.asarray(detected_scores, dtype=np.float64).reshape(-1), kind="stable"):
            iou = pairwise_iou(detected[index], truth)[0]
            iou[matched_truth] = -1.0
            best = int(np.argmax(iou))
            if iou[best] >= iou_threshold:
                matched_truth[best] = True
    return SceneMatch(len(truth), len(detected), int(matched_truth.sum()), iou_threshold)
