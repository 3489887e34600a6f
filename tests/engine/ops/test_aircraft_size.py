"""Box sizes in metres and the size classes: hand-computed boxes, the class edges, an anisotropic pixel."""
from __future__ import annotations

import numpy as np
import pytest

from engine.ops.aircraft_size import SIZE_CLASS_NAMES, box_sizes_m, size_classes


def test_longer_and_shorter_side_in_metres_with_non_square_pixels():
    boxes = [(10, 20, 30, 25), (0, 0, 4, 40), (5, 5, 5, 9)]  # 20 x 5 px, 4 x 40 px, a zero-width box
    length, width = box_sizes_m(boxes, (2.0, -0.5))  # a north-up raster has a negative y pixel size
    np.testing.assert_allclose(length, [40.0, 20.0, 2.0])
    np.testing.assert_allclose(width, [2.5, 8.0, 0.0])


def test_no_boxes_give_empty_arrays():
    length, width = box_sizes_m(np.zeros((0, 4)), (2.0, 2.0))
    assert length.shape == width.shape == (0,) and size_classes(length) == ()


@pytest.mark.parametrize("length_m, expected", [
    (8.0, "light"), (14.99, "light"), (15.0, "business"), (29.9, "business"), (30.0, "narrow body"),
    (39.5, "narrow body"), (50.0, "wide body"), (73.0, "wide body"),
])
def test_classes_by_length(length_m, expected):
    assert size_classes([length_m]) == (expected,)


def test_class_names_run_from_small_to_large():
    assert SIZE_CLASS_NAMES == ("light", "business", "narrow body", "wide body")
