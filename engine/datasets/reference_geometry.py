"""What one reference feature becomes: its polygons (one aircraft per part; points and lines are none), each
part's envelope as a box in the raster's pixels, and one note counting what was left out or changed."""

from __future__ import annotations

import numpy as np
from affine import Affine


def polygon_parts(geometry) -> list | None:
    """The polygons of a (multi-)polygon geometry, each a copy (curves linearised); None for points and lines."""
    from osgeo import ogr

    flat = ogr.GT_Flatten(geometry.GetGeometryType())
    if flat in (ogr.wkbCurvePolygon, ogr.wkbMultiSurface):
        geometry = geometry.GetLinearGeometry()
        flat = ogr.GT_Flatten(geometry.GetGeometryType())
    if flat == ogr.wkbPolygon:
        return [geometry.Clone()]
    if flat == ogr.wkbMultiPolygon:
        return [geometry.GetGeometryRef(i).Clone() for i in range(geometry.GetGeometryCount())]
    return None


def box_px(envelope, inverse: Affine, frame):
    """(minx, maxx, miny, maxy) in the raster CRS -> (box clipped to the raster, what happened) in raster px."""
    if not np.all(np.isfinite(envelope)):
        return None, "not finite"
    minx, maxx, miny, maxy = envelope
    corners = np.array([inverse * (x, y) for x in (minx, maxx) for y in (miny, maxy)])
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    if not (x1 > x0 and y1 > y0):
        return None, "no area"
    cx0, cy0 = max(x0, 0.0), max(y0, 0.0)
    cx1, cy1 = min(x1, float(frame.width_px)), min(y1, float(frame.height_px))
    if cx1 <= cx0 or cy1 <= cy0:
        return None, "outside"
    clipped = (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1)
    return (float(cx0), float(cy0), float(cx1), float(cy1)), "clipped" if clipped else None


def count_notes(layer: str, raster: str, counts: dict[str, int], role: str = "") -> list[str]:
    """What was left out or changed, counted in one note."""
    words = {
        "empty": "without geometry",
        "not polygon": "points or lines (not polygons)",
        "not finite": "with non-finite coordinates",
        "no area": "without area",
        "outside": f"outside {raster}",
    }
    left_out = [f"{counts[k]} {text}" for k, text in words.items() if counts[k]]
    changed = [f"{counts['clipped']} clipped to the edge of {raster}"] if counts["clipped"] else []
    changed += [f"{counts['parts']} more part(s) of multi-part features, each taken as its own box"] if counts[
        "parts"] else []
    text = "; ".join(filter(None, ("left out " + ", ".join(left_out) if left_out else "", *changed)))
    return [f"{layer}: {text}"] if text else []
