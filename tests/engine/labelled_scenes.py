"""Generated labelled data with known boxes for the reader, evaluation and fine-tuning tests: a GeoTIFF of
bright blobs (which the blob ONNX model finds exactly), reference polygons as a GeoPackage in any CRS, and COCO."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from osgeo import ogr, osr

ORIGIN_MAP = (500000.0, 4000000.0)  # top-left, UTM 31N metres
CRS = "EPSG:32631"
GSD_M = 2.0
BLOB_PX = 6
# Top-left (col, row) of 6 px blobs, each inside one 16 px cell of the blob model for every tile origin
# (64 px tiles with 25 % overlap step by 48 px: cell edges stay on multiples of 16).
BLOBS_PX = ((20, 20), (68, 36), (116, 84), (36, 100), (148, 52))
SIZE_PX = (192, 128)  # width, height


def blob_box_px(col: int, row: int, size: int = BLOB_PX) -> tuple[float, float, float, float]:
    return float(col), float(row), float(col + size), float(row + size)


def write_blob_raster(path, blobs_px=BLOBS_PX, size_px=SIZE_PX, crs: str | None = CRS, seed: int = 0) -> str:
    """A 1-band uint8 GeoTIFF (UTM 31N, 2 m) with bright square blobs on textured ground."""
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import from_origin

    width, height = size_px
    image = np.random.default_rng(seed).integers(90, 121, size=(1, height, width), dtype=np.uint8)
    for col, row in blobs_px:
        image[:, row : row + BLOB_PX, col : col + BLOB_PX] = 250
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8")
    if crs is not None:
        profile.update(crs=crs, transform=from_origin(*ORIGIN_MAP, GSD_M, GSD_M))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dataset:
            dataset.write(image)
    return str(path)


def px_to_map(box_px) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in UTM metres of a raster px box."""
    x0, y0, x1, y1 = box_px
    left, top = ORIGIN_MAP
    return left + x0 * GSD_M, top - y1 * GSD_M, left + x1 * GSD_M, top - y0 * GSD_M


def write_polygons(path, boxes_px, epsg: int | None = 32631, classes=None, layer: str = "references",
                   scores=None) -> str:
    """Boxes (raster px of the blob raster) as polygons in EPSG:epsg, with optional class / score fields."""
    target = None
    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        utm = osr.SpatialReference()
        utm.ImportFromEPSG(32631)
        utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        target = None if epsg == 32631 else osr.CoordinateTransformation(utm, srs)
    path = str(path)
    driver = ogr.GetDriverByName("GPKG")
    dataset = ogr.Open(path, 1) if Path(path).exists() else driver.CreateDataSource(path)
    out = dataset.CreateLayer(layer, srs=srs, geom_type=ogr.wkbPolygon)
    out.CreateField(ogr.FieldDefn("cls", ogr.OFTString))
    out.CreateField(ogr.FieldDefn("score", ogr.OFTReal))
    for index, box in enumerate(boxes_px):
        xmin, ymin, xmax, ymax = px_to_map(box)
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)):
            ring.AddPoint_2D(x, y)
        polygon = ogr.Geometry(ogr.wkbPolygon)
        polygon.AddGeometry(ring)
        if target is not None:
            polygon.Transform(target)
        feature = ogr.Feature(out.GetLayerDefn())
        feature.SetGeometry(polygon)
        feature.SetField("cls", (classes[index] if classes else "plane"))
        feature.SetField("score", float(scores[index]) if scores is not None else 1.0)
        out.CreateFeature(feature)
    out = dataset = None
    return path


def write_coco(path, images: list[tuple[str, tuple[int, int], list]], categories=("plane",)) -> str:
    """images: (file name, (width, height), [(box px, category name), ...])."""
    cats = [{"id": i + 1, "name": name} for i, name in enumerate(categories)]
    by_name = {c["name"]: c["id"] for c in cats}
    data = {"images": [], "annotations": [], "categories": cats}
    for image_id, (name, (width, height), boxes) in enumerate(images, start=1):
        data["images"].append({"id": image_id, "file_name": name, "width": width, "height": height})
        for (x0, y0, x1, y1), category in boxes:
            data["annotations"].append({"id": len(data["annotations"]) + 1, "image_id": image_id,
                                        "category_id": by_name[category], "bbox": [x0, y0, x1 - x0, y1 - y0],
                                        "area": (x1 - x0) * (y1 - y0), "iscrowd": 0})
    Path(path).write_text(json.dumps(data))
    return str(path)
