"""Each detection's attribute values in DETECTION_FIELDS order: what the vector writer and the plugin's
QGIS features both write, so a field is computed in one place."""

from __future__ import annotations

from collections.abc import Iterator

from engine.ops.aircraft_size import box_sizes_m, size_classes


def detection_rows(result) -> Iterator[tuple]:
    """(ring_map, values) per detection of a SceneDetections, values in DETECTION_FIELDS order."""
    sizes = _sizes(result)
    for index, ring_map in enumerate(result.rings_map):
        values = (float(result.scores[index]), float(result.patch_scores[index]), str(result.labels[index]),
                  str(result.source), *sizes[index])
        yield ring_map, values


def _sizes(result) -> list[tuple]:
    """(length_m, width_m, size_class) per detection; None (NULL) where the raster's ground size is unknown."""
    pixel_size = getattr(result.stats, "gsd_raster_m", None)
    if pixel_size is None:
        return [(None, None, None)] * len(result.scores)
    length_m, width_m = box_sizes_m(result.boxes_raster_px, pixel_size)
    return [(round(float(length), 2), round(float(width), 2), name)
            for length, width, name in zip(length_m, width_m, size_classes(length_m), strict=True)]
