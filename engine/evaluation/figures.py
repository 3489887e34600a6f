"""The report's two pictures, drawn with matplotlib's Agg canvas (no pyplot state: safe in QGIS's worker
threads): the precision-recall curve with the operating point, and the score histogram split TP / FP."""

from __future__ import annotations

import io
import math

import numpy as np

from engine.evaluation.labelled_scoring import LabelledEvaluation
from engine.outputs.formatting import fixed

SIZE_IN = (5.6, 4.2)
DPI = 110
TP_COLOUR, FP_COLOUR, POINT_COLOUR = "#1a9850", "#d73027", "#111111"


def _figure():
    """A bare Figure with its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def pr_curve_png(evaluation: LabelledEvaluation) -> bytes:
    """Precision against recall as the score threshold falls, AP in the title, the operating point marked."""
    curve, det, point = evaluation.curve, evaluation.report.detection, evaluation.operating
    figure = _figure()
    axes = figure.add_subplot()
    if curve.n_gt and len(curve.scores):
        recall = np.concatenate(([0.0], curve.recall))
        precision = np.concatenate(([curve.precision[0]], curve.precision))
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        axes.plot(recall, precision, color="#9ecae1", linewidth=1, label="precision")
        axes.step(recall, envelope, where="post", color="#08519c", linewidth=2, label="interpolated (AP)")
    if not (math.isnan(point.recall) or math.isnan(point.precision)):
        axes.plot([point.recall], [point.precision], "o", color=POINT_COLOUR,
                  label=f"score >= {point.score_threshold:g}: R {point.recall:.2f}, P {point.precision:.2f}")
    axes.set_title(f"Precision-recall (IoU >= {det.iou_threshold:g}), AP {fixed(det.ap50, 3)}, {curve.n_gt} aircraft")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.0)
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    return _png(figure)


def score_histogram_png(evaluation: LabelledEvaluation, bins: int = 20) -> bytes:
    """How the scores of true and false positives spread, with the operating threshold as a line.

    The count axis is logarithmic and the two kinds stand side by side, so a few false positives above the
    threshold still show beside many low-score ones; the legend counts what the operating point keeps.
    """
    curve, point = evaluation.curve, evaluation.operating
    figure = _figure()
    axes = figure.add_subplot()
    low = min(float(evaluation.report.detection.min_score), point.score_threshold)
    edges = np.linspace(low, 1.0, bins + 1)
    scores = np.clip(curve.scores, low, 1.0)
    at = f"at >= {point.score_threshold:g}"
    # side by side, not stacked: a lone false positive is not lost on top of a tall true-positive bar
    axes.hist([scores[curve.is_tp], scores[~curve.is_tp]], bins=edges, log=True,
              color=[TP_COLOUR, FP_COLOUR], label=[f"true positive ({point.tp} {at})",
                                                   f"false positive ({point.fp} {at})"])
    axes.axvline(point.score_threshold, color=POINT_COLOUR, linestyle="--", linewidth=1.2,
                 label=f"operating threshold {point.score_threshold:g}")
    axes.set_title(f"Detection scores (IoU >= {point.iou_threshold:g} against the references)")
    axes.set_xlabel("score")
    axes.set_ylabel("detections (log scale)")
    axes.grid(alpha=0.3, axis="y")
    axes.legend(loc="best", fontsize=8)
    return _png(figure)
