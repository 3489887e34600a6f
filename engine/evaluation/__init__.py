"""Detection metrics: VOC AP50 and the paper's score-threshold table, the gate, COCO AI-TOD bins."""

from engine.evaluation.evaluate import evaluate_detector
from engine.evaluation.evaluation_report import EvaluationReport

__all__ = ["EvaluationReport", "evaluate_detector"]
