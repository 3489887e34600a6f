"""What the cascade costs: on labelled scenes, the share of the patches the full gate passes that the cascade
drops, and the share of the patches with aircraft it keeps (tiny ones apart), through the deployed stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.contract import GATE_ONLY
from engine.ops.box_arrays import as_boxes, centres_inside
from engine.pipeline.cascade import first_look
from engine.pipeline.patch_stream import StreamPlan, stream_patches
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.scene import Scene
from engine.pipeline.tiling import tile_grid

TINY_PX = 16.0  # AI-TOD's tiny bin ends here


@dataclass(frozen=True)
class CascadeCheck:
    """Per patch of every scene: gate passed, cascade passed, holds an aircraft, holds a tiny one."""

    gate_passed: np.ndarray
    cascade_passed: np.ndarray
    positive: np.ndarray
    tiny: np.ndarray

    def summary(self) -> dict:
        """The shares the model card and the tests quote."""
        def share(mask, of):
            return round(float(mask[of].mean()), 4) if of.any() else None

        return {
            "patches": int(len(self.positive)),
            "gate_passed": int(self.gate_passed.sum()),
            "gate_passed_dropped_share": share(~self.cascade_passed, self.gate_passed),
            "positive": int(self.positive.sum()),
            "positive_kept_share": share(self.cascade_passed, self.positive),
            "tiny": int(self.tiny.sum()),
            "tiny_kept_share": share(self.cascade_passed, self.tiny),
            "cascade_pass_share": round(float(self.cascade_passed.mean()), 4) if len(self.positive) else None,
            "gate_pass_share": round(float(self.gate_passed.mean()), 4) if len(self.positive) else None,
        }


def check_scene(scene: Scene, boxes_model_px: np.ndarray, detector, scorer) -> CascadeCheck:
    """Every data patch of one scene: the gate alone (GATE_ONLY: no detector work) and the cascade's first look."""
    model = detector.config
    tile = int(model.patch_size)
    origins = tile_grid(*scene.size_model_px, tile, model.overlap)
    skip = nodata_patches(scene, origins, tile)
    windowed = hasattr(detector, "run_windows")
    plan = StreamPlan(tile, GATE_ONLY, 3 if windowed else 0, 4, model.overlap)
    gate_scores = stream_patches(scene, detector, origins, plan, prescreened=skip).gate_scores
    look = first_look(scene, origins, tile, scorer, skip)
    data = np.isfinite(gate_scores)  # the patches the network saw (not nodata, not flat)
    boxes = as_boxes(boxes_model_px)
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    positive, tiny = np.zeros(len(origins), bool), np.zeros(len(origins), bool)
    for index, (x, y) in enumerate(origins.tolist()):
        inside = centres_inside(boxes, x, y, tile)
        positive[index], tiny[index] = inside.any(), bool((sides[inside] < TINY_PX).any())
    gate_passed = data & (gate_scores >= float(model.gate_threshold))
    return CascadeCheck(gate_passed[data], look.passed[data], positive[data], tiny[data])


def combine(checks: list[CascadeCheck]) -> CascadeCheck:
    """One check over several scenes."""
    return CascadeCheck(*(np.concatenate([getattr(c, f) for c in checks]) for f in
                          ("gate_passed", "cascade_passed", "positive", "tiny")))
