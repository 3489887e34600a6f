"""An aircraft's size in metres from its box and the raster's ground resolution, and the size class an
analyst recognises (light, business, narrow body, wide body), decided by the box's longer side.

The box is axis-aligned, so its longer side is the aircraft's length or wingspan for an aircraft parked
along a raster axis, and up to about 1.4 times that for one at 45 degrees: the classes are coarse on purpose.
"""

from __future__ import annotations

import numpy as np

from engine.ops.box_arrays import as_boxes

# (name, shortest longer side in metres): light aircraft and helicopters, business jets and turboprops,
# narrow bodies (A320, 737 families), wide bodies (A330, 777, 747 and larger)
SIZE_CLASSES: tuple[tuple[str, float], ...] = (
    ("light", 0.0),
    ("business", 15.0),
    ("narrow body", 30.0),
    ("wide body", 50.0),
)
SIZE_CLASS_NAMES = tuple(name for name, _ in SIZE_CLASSES)


def box_sizes_m(boxes_px, pixel_size_m: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(length_m, width_m): the longer and the shorter side of each box, raster px times the ground size."""
    boxes = as_boxes(boxes_px)
    along_x = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * abs(float(pixel_size_m[0]))
    along_y = np.clip(boxes[:, 3] - boxes[:, 1], 0, None) * abs(float(pixel_size_m[1]))
    return np.maximum(along_x, along_y), np.minimum(along_x, along_y)


def size_classes(length_m) -> tuple[str, ...]:
    """The class of each length: the last class whose lower bound it reaches."""
    bounds = np.asarray([low for _, low in SIZE_CLASSES[1:]], dtype=np.float64)
    indices = np.searchsorted(bounds, np.asarray(length_m, dtype=np.float64).reshape(-1), side="right")
    return tuple(SIZE_CLASS_NAMES[i] for i in indices)
