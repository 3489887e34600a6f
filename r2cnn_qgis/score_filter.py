"""Filter a detection layer on `score` through its subset string: instant, no re-run, any provider."""
from __future__ import annotations

from qgis.core import QgsVectorLayer

from .detection_features import SCORE_FIELD

# Stored on the layer (and saved with the project) so the user's own filter and the total survive.
BASE_SUBSET_PROPERTY = "r2cnn/base_subset"
TOTAL_PROPERTY = "r2cnn/total"
MIN_SCORE_PROPERTY = "r2cnn/min_score"


def has_score_field(layer) -> bool:
    """Only vector layers with a numeric `score` field can be filtered."""
    return isinstance(layer, QgsVectorLayer) and layer.fields().indexOf(SCORE_FIELD) >= 0


def score_subset(base_subset: str, min_score: float) -> str:
    """The user's own filter (kept) AND score >= min_score; no score clause at 0."""
    clause = f'"{SCORE_FIELD}" >= {min_score:.3f}' if min_score > 0.0 else ""
    if base_subset and clause:
        return f"({base_subset}) AND {clause}"
    return base_subset or clause


def current_min_score(layer: QgsVectorLayer) -> float:
    """The threshold last applied to this layer (0 when it was never filtered)."""
    return float(layer.customProperty(MIN_SCORE_PROPERTY, 0.0) or 0.0)


def total_count(layer: QgsVectorLayer) -> int:
    """Features under the user's own filter only: counted once, then remembered on the layer."""
    stored = layer.customProperty(TOTAL_PROPERTY)
    if stored is not None:
        return int(stored)
    base = _base_subset(layer)
    if layer.subsetString() != base:
        layer.setSubsetString(base)
    total = int(layer.featureCount())
    layer.setCustomProperty(TOTAL_PROPERTY, total)
    return total


def apply_score_filter(layer: QgsVectorLayer, min_score: float) -> tuple[int, int]:
    """Show only detections with score >= min_score; returns (visible, total)."""
    if not has_score_field(layer):
        raise ValueError(f"layer {layer.name()!r} has no {SCORE_FIELD!r} field")
    total = total_count(layer)
    subset = score_subset(_base_subset(layer), min_score)
    if layer.subsetString() != subset and not layer.setSubsetString(subset):
        raise ValueError(f"layer {layer.name()!r} refused the filter {subset!r} (is it being edited?)")
    layer.setCustomProperty(MIN_SCORE_PROPERTY, float(min_score))
    layer.triggerRepaint()
    return int(layer.featureCount()), total


def _base_subset(layer: QgsVectorLayer) -> str:
    """The filter the layer had before we first touched it."""
    stored = layer.customProperty(BASE_SUBSET_PROPERTY)
    if stored is None:
        stored = layer.subsetString()
        layer.setCustomProperty(BASE_SUBSET_PROPERTY, stored)
    return str(stored)
