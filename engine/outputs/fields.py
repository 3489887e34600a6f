"""The attributes of what the engine writes, in one place: the detection layer (r2cnn detect, the archive,
the plugin's layer) and the error layers (r2cnn evaluate --report-dir, the plugin's Evaluate algorithm).
The engine's OGR writers and the plugin's QGIS fields are both built from these records."""

from __future__ import annotations

from dataclasses import dataclass

REAL, INTEGER64, STRING = "real", "integer64", "string"


@dataclass(frozen=True)
class Field:
    """One attribute: its name, its kind, and the display width / decimals QGIS layers get."""

    name: str
    kind: str  # REAL, INTEGER64 or STRING
    length: int = 0
    precision: int = 0


SCORE, PATCH_SCORE, LABEL, SOURCE = "score", "patch_score", "label", "source"
LENGTH_M, WIDTH_M, SIZE_CLASS = "length_m", "width_m", "size_class"
DETECTION_LAYER = "aircraft"
DETECTION_FIELDS = (
    Field(SCORE, REAL, 10, 4),  # the detector's confidence
    Field(PATCH_SCORE, REAL, 10, 4),  # the gate's confidence for the patch; a Shapefile (DBF) keeps patch_scor
    Field(LABEL, STRING, 32),
    Field(SOURCE, STRING, 254),  # the raster's name
    Field(LENGTH_M, REAL, 7, 1),  # the box's longer side on the ground (ops.aircraft_size); NULL: unknown
    Field(WIDTH_M, REAL, 7, 1),  # its shorter side
    Field(SIZE_CLASS, STRING, 16),  # light / business / narrow body / wide body, by length_m
)

ERROR_LAYERS = ("true_positive", "false_positive", "false_negative")  # CLI and plugin alike
ERROR_FIELDS = (
    Field("feature_id", INTEGER64),  # the detection's id (TP, FP) or the reference's (FN)
    Field(SCORE, REAL, 10, 4),  # the detection's score; FN: the best-overlapping kept detection's (NULL: none)
    Field("iou", REAL, 10, 4),  # with the match; FP / FN: with the best-overlapping counterpart (0: none)
    Field("matched_id", INTEGER64),  # TP: the reference matched; FP / FN: the best-overlapping one (NULL: none)
    Field(SOURCE, STRING, 254),  # raster or image name
)
