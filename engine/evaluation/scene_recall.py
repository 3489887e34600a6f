"""Recall and precision on whole scenes with known aircraft (demo, benchmark, validation scenes): one scene's
detections matched one to one at IoU >= 0.5, and many scenes through detect_raster exactly as users run it."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig
from engine.ops.box_arrays import greedy_match
from engine.pipeline.detect import detect_raster
from engine.runtime.types import Detector
from engine.synthetic.scene_generator import read_truth, truth_path


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


@dataclass(frozen=True)
class SceneScore:
    """One scene: the match at the run's score threshold, and what the run did."""

    path: str
    match: SceneMatch
    score_threshold: float
    patches: int
    patches_passed_gate: int
    seconds: float
    stretch: str


def scene_paths(items: list[str]) -> list[str]:
    """GeoTIFFs with a `.boxes.csv` beside them, from files or folders (sorted, so runs compare)."""
    paths = []
    for item in items:
        if os.path.isdir(item):
            paths += sorted(os.path.join(item, name) for name in os.listdir(item) if name.endswith((".tif", ".tiff")))
        else:
            paths.append(item)
    missing = [path for path in paths if not truth_path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"no truth file {truth_path(missing[0]).name} beside {missing[0]}")
    if not paths:
        raise FileNotFoundError(f"no scenes in {', '.join(items)}")
    return paths


def evaluate_scenes(paths: list[str], detector: Detector, config: DetectConfig) -> list[SceneScore]:
    """detect_raster on each scene with the given (deployed) settings, matched one to one at IoU 0.5."""
    scores = []
    for path in paths:
        found = detect_raster(path, config, detector=detector)
        truth = read_truth(path)
        stats = found.stats
        scores.append(
            SceneScore(
                path=path,
                match=match_scene(found.boxes_raster_px, found.scores, truth.boxes_raster_px),
                score_threshold=stats.score_threshold,
                patches=stats.patches_total,
                patches_passed_gate=stats.patches_passed_gate,
                seconds=stats.stage_seconds.get("total", sum(stats.stage_seconds.values())),
                stretch=config.stretch,
            )
        )
    return scores


def scene_table(scores: list[SceneScore]) -> str:
    """A text table, one row per scene and the pooled total."""
    lines = ["scene | aircraft | found | detections | recall | precision | patches passed | seconds"]
    for s in scores:
        m = s.match
        lines.append(
            f"{os.path.basename(s.path)} | {m.true_count} | {m.matched} | {m.detected_count} | {m.recall:.3f} | "
            f"{m.precision:.3f} | {s.patches_passed_gate}/{s.patches} | {s.seconds:.0f}"
        )
    total = pooled(scores)
    lines.append(
        f"all ({scores[0].stretch} stretch, score >= {scores[0].score_threshold:g}) | {total.true_count} | "
        f"{total.matched} | {total.detected_count} | {total.recall:.3f} | {total.precision:.3f} | |"
    )
    return "\n".join(lines)


def pooled(scores: list[SceneScore]) -> SceneMatch:
    """All scenes' aircraft and detections together."""
    return dataclasses.replace(
        scores[0].match,
        true_count=sum(s.match.true_count for s in scores),
        detected_count=sum(s.match.detected_count for s in scores),
        matched=sum(s.match.matched for s in scores),
    )
