"""Training images read from rasters through the detection pipeline's own reader and 8-bit mapping."""

from __future__ import annotations

import numpy as np

from engine.config import DetectConfig, ModelConfig
from engine.ops.box_arrays import boxes_to_model_px
from engine.pipeline.raster_reader import open_model_scene
from engine.training.patch_sampler import TrainingImage


def raster_training_image(
    path: str,
    boxes_raster_px: np.ndarray,
    model: ModelConfig,
    stretch_mode: str = DetectConfig().stretch,
    bands: tuple[int, ...] | None = None,
    gsd_m: float | None = None,
) -> TrainingImage:
    """The whole raster at the model's gsd, mapped to 8 bits exactly as `r2cnn detect` maps it, and its boxes
    in model px: what the network learns from is what it will be shown (gsd_m: as r2cnn detect --gsd)."""
    with open_model_scene(path, model, DetectConfig(bands=bands, gsd_m=gsd_m, stretch=stretch_mode)) as scene:
        image_u8, _ = scene.read_region_u8((0, 0), scene.size_model_px)
        scale_xy = scene.scale_xy
    boxes = boxes_to_model_px(boxes_raster_px, scale_xy, np.float32)
    return TrainingImage(hwc3(image_u8), boxes)


def hwc3(image_u8: np.ndarray) -> np.ndarray:
    """(bands, h, w) as read for detection -> the (h, w, 3) the sampler takes (grey seen three times, as the
    patch stream shows it to the network)."""
    image = np.broadcast_to(image_u8, (3, *image_u8.shape[1:])) if image_u8.shape[0] == 1 else image_u8[:3]
    return np.ascontiguousarray(np.transpose(image, (1, 2, 0)))
