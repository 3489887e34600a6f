"""A scene's footprint as a polygon in EPSG:4326, so that scenes in any CRS (UTM zones of a whole country)
sit in one catalogue layer."""

from __future__ import annotations

import numpy as np

CATALOGUE_EPSG = 4326
POINTS_PER_EDGE = 8  # a straight edge in UTM is a curve in degrees: sample it


def footprint_wkt(path: str) -> str | None:
    """The raster's outline in EPSG:4326 (lon, lat) as WKT; None without a CRS or a geotransform."""
    import rasterio
    from osgeo import ogr, osr

    with rasterio.open(path) as dataset:
        if dataset.crs is None or dataset.transform.is_identity:
            return None
        width, height, transform, wkt = dataset.width, dataset.height, dataset.transform, dataset.crs.to_wkt()
    steps = np.linspace(0.0, 1.0, POINTS_PER_EDGE, endpoint=False)
    cols = np.concatenate([steps * width, np.full_like(steps, width), (1 - steps) * width, np.zeros_like(steps)])
    rows = np.concatenate([np.zeros_like(steps), steps * height, np.full_like(steps, height), (1 - steps) * height])
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for col, row in zip([*cols, 0.0], [*rows, 0.0], strict=True):
        x, y = transform * (float(col), float(row))
        ring.AddPoint_2D(x, y)
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromWkt(wkt)
    target.ImportFromEPSG(CATALOGUE_EPSG)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    try:
        failed = polygon.Transform(osr.CoordinateTransformation(source, target)) != 0
    except RuntimeError:  # OGR exceptions switched on by the caller: same meaning as an error code
        failed = True
    return None if failed else polygon.ExportToWkt()
