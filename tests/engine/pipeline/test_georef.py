"""Raster px <-> map with the full affine: north-up, rotated and geographic rasters round-trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from engine.pipeline.georef import (
    box_rings_map,
    extent_map_to_region_raster_px,
    map_to_raster_px,
    metres_per_degree,
    pixel_size_m,
    raster_px_to_map,
)

NORTH_UP = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4000000.0)
ROTATED = Affine.translation(500000.0, 4000000.0) * Affine.rotation(30.0) * Affine.scale(2.0, -2.0)
GEOGRAPHIC = Affine(1.8e-5, 0.0, 116.58, 0.0, -1.8e-5, 40.08)


@pytest.mark.parametrize("transform", [NORTH_UP, ROTATED, GEOGRAPHIC])
def test_pixel_map_round_trip(transform):
    points = np.random.default_rng(0).uniform(0, 18000, (100, 2))
    back = map_to_raster_px(raster_px_to_map(points, transform), transform)
    np.testing.assert_allclose(back, points, atol=1e-6)
    np.testing.assert_allclose(
        raster_px_to_map(points[:1], transform)[0], transform * tuple(points[0]), rtol=1e-12
    )


def test_north_up_ring_is_the_box_in_map_units():
    rings = box_rings_map(np.array([[10, 20, 15, 30]], float), NORTH_UP)
    assert rings.shape == (1, 5, 2)
    assert rings[0, 0].tolist() == [500020.0, 3999960.0]
    assert rings[0, 2].tolist() == [500030.0, 3999940.0]
    assert rings[0, 0].tolist() == rings[0, 4].tolist()


def test_rotated_grid_gives_a_rotated_polygon_of_the_same_size():
    ring = box_rings_map(np.array([[100, 100, 110, 120]], float), ROTATED)[0]
    edges = np.diff(ring, axis=0)
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    np.testing.assert_allclose(lengths, [20, 40, 20, 40], atol=1e-9)  # 10 x 20 px at 2 m
    angle = math.degrees(math.atan2(edges[0, 1], edges[0, 0]))
    assert angle == pytest.approx(30.0)  # the top edge follows the grid's rotation


def test_metres_per_degree_on_wgs84():
    east, north = metres_per_degree(0.0)
    assert east == pytest.approx(111319.49, abs=0.1)
    assert north == pytest.approx(110574.3, abs=1.0)
    east60, north60 = metres_per_degree(60.0)
    assert east60 == pytest.approx(55800.0, rel=2e-3)
    assert north60 == pytest.approx(111412.0, rel=1e-3)


def test_geographic_pixel_size_is_taken_at_the_scene_latitude():
    x_m, y_m = pixel_size_m(GEOGRAPHIC, True, 1.0, 40.0)
    assert x_m == pytest.approx(1.8e-5 * metres_per_degree(40.0)[0])
    assert y_m == pytest.approx(1.8e-5 * metres_per_degree(40.0)[1])
    assert x_m < y_m  # a degree of longitude shrinks with latitude


def test_projected_pixel_size_uses_the_crs_units_and_rotation():
    assert pixel_size_m(ROTATED, False, 1.0) == pytest.approx((2.0, 2.0))
    feet = Affine(6.0, 0.0, 0.0, 0.0, -6.0, 0.0)
    assert pixel_size_m(feet, False, 0.3048)[0] == pytest.approx(1.8288)


def test_extent_to_region_in_raster_px():
    region = extent_map_to_region_raster_px((500020.0, 3999900.0, 500100.0, 3999980.0), NORTH_UP, 1000, 1000)
    assert region == (10, 10, 50, 50)
    assert extent_map_to_region_raster_px((0.0, 0.0, 1.0, 1.0), NORTH_UP, 1000, 1000) is None
