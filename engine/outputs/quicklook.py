"""A PNG picture of a scene with its detections: a quick visual check without a GIS."""

from __future__ import annotations

import numpy as np

from engine.atomic_output import atomic_output
from engine.pipeline.raster_reader import RasterScene

BOX_COLOUR = (255, 40, 40)


def draw_boxes(image_u8: np.ndarray, boxes_px: np.ndarray, width: int = 2, colour=BOX_COLOUR) -> np.ndarray:
    """Outline (x0, y0, x1, y1) boxes on a (3, h, w) image in place; tiny boxes stay visible as squares."""
    _, height, width_px = image_u8.shape
    for x0, y0, x1, y1 in np.asarray(boxes_px, dtype=np.float64).reshape(-1, 4):
        c0, r0 = int(np.floor(x0)), int(np.floor(y0))
        c1, r1 = max(int(np.ceil(x1)), c0 + 2 * width), max(int(np.ceil(y1)), r0 + 2 * width)
        c0, r0 = max(c0 - width, 0), max(r0 - width, 0)
        c1, r1 = min(c1 + width, width_px), min(r1 + width, height)
        if c1 <= c0 or r1 <= r0:
            continue
        for band, value in enumerate(colour):
            image_u8[band, r0:r1, c0 : c0 + width] = value
            image_u8[band, r0:r1, max(c1 - width, c0) : c1] = value
            image_u8[band, r0 : r0 + width, c0:c1] = value
            image_u8[band, max(r1 - width, r0) : r1, c0:c1] = value
    return image_u8


def write_quicklook(
    raster_path: str,
    boxes_raster_px: np.ndarray,
    out_png: str,
    max_px: int = 2000,
    bands: tuple[int, ...] | None = None,
    stretch_mode: str = "percentile",
) -> str:
    """Decimate the scene to <= max_px on its long side, draw the boxes, write a PNG atomically."""
    with RasterScene(
        raster_path, model_gsd_m=1.0, bands=bands, gsd_m=1.0, stretch_mode=stretch_mode
    ) as scene:
        image, (scale_x, scale_y) = scene.thumbnail_u8(max_px)
    boxes = np.asarray(boxes_raster_px, dtype=np.float64).reshape(-1, 4) / np.array([scale_x, scale_y] * 2)
    draw_boxes(image, boxes)
    with atomic_output(out_png, suffix=".png") as tmp_path:
        _save_png(image, tmp_path)
    return out_png


def _save_png(image_u8: np.ndarray, path: str) -> None:
    """PIL when present (QGIS ships it on most platforms), else GDAL's PNG driver."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        Image.fromarray(np.ascontiguousarray(image_u8.transpose(1, 2, 0))).save(path, format="PNG")
        return
    import rasterio

    _, height, width = image_u8.shape
    with rasterio.open(path, "w", driver="PNG", width=width, height=height, count=3, dtype="uint8") as dst:
        dst.write(image_u8)
