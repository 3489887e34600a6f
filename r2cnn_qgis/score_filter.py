"""Filter a detection layer on `score` (and its size classes) through its subset string: instant, no re-run,
any provider."""
from __future__ import annotations

from collections import Counter

from qgis.core import QgsFeatureRequest, QgsVectorLayer

from .detection_features import SCORE_FIELD, SIZE_CLASS_FIELD

# Stored on the layer (and saved with the project) so the user's own filter and the total survive.
BASE_SUBSET_PROPERTY = "r2cnn/base_subset"
TOTAL_PROPERTY = "r2cnn/total"
MIN_SCORE_PROPERTY = "r2cnn/min_score"
RECOMMENDED_PROPERTY = "r2cnn/recommended_score"  # the model's recommended score: where the slider starts
CLASSES_PROPERTY = "r2cnn/size_classes"  # the size classes shown, comma-separated; absent: every class


def has_score_field(layer) -> bool:
    """Only vector layers with a numeric `score` field can be filtered."""
    return isinstance(layer, QgsVectorLayer) and layer.fields().indexOf(SCORE_FIELD) >= 0


def has_size_classes(layer) -> bool:
    """Layers written with the size fields can also be filtered by size class."""
    return isinstance(layer, QgsVectorLayer) and layer.fields().indexOf(SIZE_CLASS_FIELD) >= 0


def score_subset(base_subset: str, min_score: float, size_classes=None) -> str:
    """The user's own filter (kept) AND score >= min_score AND the size class among size_classes.

    No score clause at 0, no class clause for None (every class); an empty selection shows nothing.
    """
    clauses = [f'"{SCORE_FIELD}" >= {min_score:.3f}'] if min_score > 0.0 else []
    if size_classes is not None:
        names = ", ".join("'" + name.replace("'", "''") + "'" for name in size_classes)
        clauses.append(f'"{SIZE_CLASS_FIELD}" IN ({names})' if names else "0 = 1")
    clause = " AND ".join(clauses)
    if base_subset and clause:
        return f"({base_subset}) AND {clause}"
    return base_subset or clause


def current_min_score(layer: QgsVectorLayer) -> float:
    """The threshold last applied to this layer; never filtered: the model's recommended score, else 0.

    The layer itself holds every detection down to the run's minimum score, so the slider can go lower.
    """
    stored = layer.customProperty(MIN_SCORE_PROPERTY)
    if stored is None:
        stored = layer.customProperty(RECOMMENDED_PROPERTY)
    return float(stored or 0.0)


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


def current_size_classes(layer: QgsVectorLayer):
    """The size classes last shown on this layer, or None for every class."""
    stored = layer.customProperty(CLASSES_PROPERTY)
    return None if stored is None else tuple(name for name in str(stored).split(",") if name)


def size_class_table(layer: QgsVectorLayer) -> list[tuple[float, str]]:
    """(score, size class) of every feature under the user's own filter, read once, geometry left out."""
    base, subset = _base_subset(layer), layer.subsetString()
    if subset != base:
        layer.setSubsetString(base)
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.Flag.NoGeometry)
    request.setSubsetOfAttributes([SCORE_FIELD, SIZE_CLASS_FIELD], layer.fields())
    try:
        rows = [(_number(f[SCORE_FIELD]), str(f[SIZE_CLASS_FIELD] or "")) for f in layer.getFeatures(request)]
    finally:
        if subset != base:
            layer.setSubsetString(subset)
    return rows


def class_counts(table: list[tuple[float, str]], min_score: float) -> Counter:
    """How many detections of each size class score at least min_score."""
    return Counter(size_class for score, size_class in table if score >= min_score)


def apply_score_filter(layer: QgsVectorLayer, min_score: float, size_classes=None) -> tuple[int, int]:
    """Show only detections with score >= min_score (and of size_classes unless None); returns (visible, total)."""
    if not has_score_field(layer):
        raise ValueError(f"layer {layer.name()!r} has no {SCORE_FIELD!r} field")
    total = total_count(layer)
    classes = tuple(size_classes) if size_classes is not None and has_size_classes(layer) else None
    subset = score_subset(_base_subset(layer), min_score, classes)
    if layer.subsetString() != subset and not layer.setSubsetString(subset):
        raise ValueError(f"layer {layer.name()!r} refused the filter {subset!r} (is it being edited?)")
    layer.setCustomProperty(MIN_SCORE_PROPERTY, float(min_score))
    if classes is None:
        layer.removeCustomProperty(CLASSES_PROPERTY)
    else:
        layer.setCustomProperty(CLASSES_PROPERTY, ",".join(classes))  # "" (nothing shown) is not absent
    layer.triggerRepaint()
    return int(layer.featureCount()), total


def _number(value) -> float:
    """A score attribute as a float; NULL (a null QVariant, None) as 0."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _base_subset(layer: QgsVectorLayer) -> str:
    """The filter the layer had before we first touched it."""
    stored = layer.customProperty(BASE_SUBSET_PROPERTY)
    if stored is None:
        stored = layer.subsetString()
        layer.setCustomProperty(BASE_SUBSET_PROPERTY, stored)
    return str(stored)
