"""Rasterisers and noise: coverage integrates to the true area, noise is window-independent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.synthetic.aircraft_shapes import (
    AircraftShape,
    aircraft_parts,
    convex_union_coverage,
    polygons_bbox,
    rotated_rect_coverage,
)
from engine.synthetic.noise import pixel_noise, value_noise


def _shoelace(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_convex_coverage_of_a_triangle_integrates_to_its_area():
    triangle = np.array([(2.0, 2.0), (12.3, 3.1), (5.2, 11.7)])
    assert _shoelace(triangle) > 0  # counter-clockwise with y up, as the rasteriser expects
    cover = convex_union_coverage([triangle], 0, 0, 16, 16, samples=8)
    assert cover.min() >= 0.0 and cover.max() == 1.0
    assert cover.sum() == pytest.approx(_shoelace(triangle), rel=0.02)


def test_union_of_overlapping_parts_is_not_double_counted():
    square = np.array([(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)])
    cover = convex_union_coverage([square, square + 2.0], 0, 0, 8, 8, samples=4)
    assert cover.sum() == pytest.approx(16 + 16 - 4)


def test_rotated_rectangle_coverage_matches_its_area():
    cover = rotated_rect_coverage(32.0, 30.0, 20.0, 6.0, math.radians(33.0), 0, 0, 64, 64)
    assert cover.sum() == pytest.approx(4 * 20.0 * 6.0, rel=0.01)


@pytest.mark.parametrize("heading_deg", [0.0, 90.0])
def test_aircraft_extent_follows_wingspan_and_heading(heading_deg):
    shape = AircraftShape(length_ratio=1.0)
    fuselage, panels = aircraft_parts(shape, 30.0, math.radians(heading_deg), 100.0, 50.0)
    x0, y0, x1, y1 = polygons_bbox([fuselage, *panels])
    across, along = (y1 - y0, x1 - x0) if heading_deg == 0.0 else (x1 - x0, y1 - y0)
    assert across == pytest.approx(30.0, abs=0.01)  # wing tip to wing tip
    assert along == pytest.approx(30.0, abs=0.6)  # nose to tail (tail cone may trail a little)
    for part in [fuselage, *panels]:
        assert _shoelace(part) > 0  # every part keeps the winding the rasteriser needs


def test_value_noise_is_the_same_whichever_window_computes_it():
    whole = value_noise(5, 1, 17.0, 100, 200, 64, 80)
    assert whole.dtype == np.float32 and whole.min() >= 0.0 and whole.max() < 1.0
    part = value_noise(5, 1, 17.0, 100 + 23, 200 + 41, 30, 30)
    np.testing.assert_array_equal(part, whole[23:53, 41:71])
    assert not np.array_equal(whole, value_noise(6, 1, 17.0, 100, 200, 64, 80))


def test_pixel_noise_is_centred_and_window_independent():
    noise = pixel_noise(1, 5, 0, 0, 256, 256)
    assert abs(float(noise.mean())) < 0.01 and noise.min() > -1.0 and noise.max() < 1.0
    np.testing.assert_array_equal(pixel_noise(1, 5, 10, 20, 5, 5), noise[10:15, 20:25])
