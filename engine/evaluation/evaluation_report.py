"""The evaluation report: one frozen record, printed as a table (to_text) or saved as JSON (to_dict)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.evaluation.coco_eval import SIZE_UNIT, CocoMetrics, bin_label
from engine.evaluation.metrics import DetectionMetrics, GateMetrics
from engine.outputs.formatting import fixed, json_ready


@dataclass(frozen=True)
class EvaluationReport:
    """Everything measured in one evaluation run."""

    n_images: int
    n_patches: int
    n_patches_passed: int  # patches that produced detections or passed the gate threshold used
    patch_size: int
    gate_threshold_used: float  # what the detector got (-1: no gate)
    detection: DetectionMetrics
    gate: GateMetrics
    coco: CocoMetrics | None
    seconds: float
    device: str = "?"
    # Per patch, for threshold calibration; left out of to_dict() to keep the JSON small.
    patch_gate_scores: tuple[float, ...] = ()
    patch_positive: tuple[bool, ...] = ()
    from_layer: bool = False  # detections read from an existing layer: no patches, no gate

    def to_dict(self) -> dict:
        """JSON-ready: nested plain values, nan as None."""
        fields = dataclasses.asdict(self)
        del fields["patch_gate_scores"], fields["patch_positive"]
        return json_ready(fields)

    def to_text(self) -> str:
        """A readable summary with the paper's threshold table and the AI-TOD size bins."""
        det, gate = self.detection, self.gate
        gate_used = "off (every patch)" if self.gate_threshold_used < 0 else f"{self.gate_threshold_used:.2f}"
        header = (
            f"{self.n_images} images, {self.n_patches} patches of {self.patch_size} px, {det.n_gt} aircraft; "
            f"gate {gate_used}; {self.device}; {self.seconds:.1f} s"
            if not self.from_layer
            else f"{det.n_gt} aircraft; detections read from a layer (no model run)"
        )
        lines = [
            header,
            f"VOC AP50 (IoU {det.iou_threshold:g}, scores >= {det.min_score:g}): {fixed(det.ap50)}   "
            f"max recall: {fixed(det.max_recall)}   detections: {det.n_detections}",
            "",
            f"{'score':>6} {'TP':>6} {'FP':>6} {'FN':>6} {'recall':>8} {'precision':>10}",
        ]
        for row in det.rows:
            lines.append(
                f"{row.score_threshold:>6.2f} {row.tp:>6d} {row.fp:>6d} {row.fn:>6d} "
                f"{fixed(row.recall):>8} {fixed(row.precision):>10}"
            )
        lines += [] if self.from_layer else [
            "",
            f"gate at {gate.threshold:.2f}: recall {fixed(gate.recall)}, precision {fixed(gate.precision)} "
            f"(TP {gate.tp}, FP {gate.fp}, FN {gate.fn}, TN {gate.tn} of {gate.n_patches} patches, "
            f"{gate.positives} with aircraft); aircraft in passed patches {fixed(gate.aircraft_recall)}",
        ]
        if self.coco is not None:
            lines += [
                "",
                f"COCO (pycocotools, AI-TOD size bins, maxDets {self.coco.max_dets}; {SIZE_UNIT.lower()}):",
                f"{'bin':<24} {'gt':>6} {'AP':>7} {'AP50':>7}",
            ]
            for label, ap in self.coco.ap.items():
                lines.append(
                    f"{bin_label(label):<24} {self.coco.gt_counts[label]:>6d} {fixed(ap, 3):>7} "
                    f"{fixed(self.coco.ap50[label], 3):>7}"
                )
        return "\n".join(lines)
