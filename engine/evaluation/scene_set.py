"""Recall and precision on whole scenes with known aircraft, through detect_raster exactly as users run it."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.pipeline.scene_recall import SceneMatch, match_scene
from engine.runtime.types import Detector
from engine.synthetic.scene_generator import read_truth, truth_path


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
