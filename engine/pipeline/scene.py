"""What the patch stream reads from: a scene at the model's gsd in 8 bits, streamed from a raster or held
in memory. Both pad and fill the same way and share one emptiness rule, so every caller sees the same patches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from affine import Affine

from engine.config import ModelConfig
from engine.pipeline import stretch

# Ungeoreferenced rasters: QGIS draws them with a (1, -1) pixel size, so pixel-space polygons use it too.
PIXEL_SPACE_TRANSFORM = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 0.0)


def patch_fill_value(model: ModelConfig) -> float:
    """Padding and nodata take the training mean: a neutral grey after normalisation, no false edges."""
    return float(np.mean(model.mean))


class Scene(Protocol):
    """The patch stream's view of a scene (engine.pipeline.raster_reader.RasterScene, ImageScene)."""

    path: str
    notes: list[str]
    width_px: int  # source pixels
    height_px: int
    size_model_px: tuple[int, int]  # (width, height) at the model's gsd
    scale_xy: tuple[float, float]  # source px per model px
    fill_value: float
    transform: Affine
    crs_wkt: str | None

    @property
    def stretch(self) -> stretch.Stretch: ...

    def read_region_u8(
        self, origin_model_px: tuple[int, int], size_xy_px: tuple[int, int], step_model_px: int = 1
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def nodata_overview(self) -> tuple[np.ndarray, tuple[float, float]] | None: ...


@dataclass(frozen=True)
class Patch:
    """One network input (3, P, P) uint8 and whether the network needs to see it."""

    image_u8: np.ndarray  # may be a read-only view (grey broadcast to 3 channels)
    valid_fraction: float  # share of the patch that is scene data (not nodata, not padding)
    skip: bool  # all nodata, or a single value: nothing to detect


def patch_emptiness(values_u8: np.ndarray, valid: np.ndarray) -> tuple[bool, int]:
    """(skip, valid pixel count) of one patch: skipped when all nodata or a single value over its data."""
    if valid.all():
        return bool(values_u8.min() == values_u8.max()), int(valid.size)
    valid_count = int(np.count_nonzero(valid))
    return valid_count == 0 or bool(np.ptp(values_u8[:, valid]) == 0), valid_count


def read_patch(scene: Scene, origin_model_px: tuple[int, int], size_px: int) -> Patch:
    """The (3, P, P) uint8 patch at a model-px origin; padding and nodata carry the scene's fill value."""
    values, valid = scene.read_region_u8(origin_model_px, (size_px, size_px))
    skip, valid_count = patch_emptiness(values, valid)
    # Grey: one channel seen three times (a read-only view; batching copies it anyway).
    image = np.broadcast_to(values, (3, size_px, size_px)) if values.shape[0] == 1 else values
    return Patch(image_u8=image, valid_fraction=valid_count / float(size_px * size_px), skip=skip)


def fill_and_pad(
    values_u8: np.ndarray, valid: np.ndarray, size_xy_px: tuple[int, int], fill_value: float
) -> tuple[np.ndarray, np.ndarray]:
    """(bands, h, w) values and valid mask -> size_xy_px, nodata and padding set to the fill value."""
    width_px, height_px = size_xy_px
    fill = np.uint8(round(fill_value))
    if not valid.all():
        values_u8 = np.where(valid, values_u8, fill)
    if values_u8.shape[1:] == (height_px, width_px):
        return values_u8, valid
    out_h, out_w = values_u8.shape[1:]
    padded = np.full((values_u8.shape[0], height_px, width_px), fill, dtype=np.uint8)
    padded[:, :out_h, :out_w] = values_u8
    padded_valid = np.zeros((height_px, width_px), dtype=bool)
    padded_valid[:out_h, :out_w] = valid
    return padded, padded_valid


def block_mean_u8(values_u8: np.ndarray, valid: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(bands, H, W) -> (bands, H / step, W / step) block means; a block is valid where any pixel is."""
    bands, height, width = values_u8.shape
    blocks = values_u8.reshape(bands, height // step, step, width // step, step).astype(np.float32)
    means = np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)
    return means, valid.reshape(height // step, step, width // step, step).any(axis=(1, 3))


class ImageScene:
    """An 8-bit image already at the model's gsd (evaluation, calibration, gate tuning), read like a raster."""

    def __init__(self, image_u8: np.ndarray, fill_value: float, valid: np.ndarray | None = None, name: str = ""):
        image = np.asarray(image_u8)
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(f"{name}: expected an"
                             f" (H, W) or (H, W, bands) uint8 image, got {image.shape} {image.dtype}")
        self._bands = np.ascontiguousarray(image[None] if image.ndim == 2 else image.transpose(2, 0, 1))
        self.height_px, self.width_px = self._bands.shape[1:]
        self._valid = None if valid is None else np.asarray(valid, dtype=bool)
        if self._valid is not None and self._valid.shape != (self.height_px, self.width_px):
            raise ValueError(f"{name}: valid mask {self._valid.shape} does not match the image")
        self.path = name
        self.notes: list[str] = []
        self.size_model_px = (self.width_px, self.height_px)
        self.scale_xy = (1.0, 1.0)
        self.fill_value = float(fill_value)
        self.transform = PIXEL_SPACE_TRANSFORM
        self.crs_wkt = None

    @property
    def stretch(self) -> stretch.Stretch:
        """Already 8 bits: used as it is."""
        return stretch.identity_stretch(len(self._bands))

    def read_region_u8(
        self, origin_model_px: tuple[int, int], size_xy_px: tuple[int, int], step_model_px: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(bands, h, w) uint8 of a region and its valid mask; past the image and nodata get the fill value
        (step_model_px > 1: step x step block means, as the raster reader's decimated read)."""
        if step_model_px > 1:
            full = self.read_region_u8(origin_model_px, (size_xy_px[0] * step_model_px, size_xy_px[1] * step_model_px))
            return block_mean_u8(*full, step_model_px)
        x0, y0 = int(origin_model_px[0]), int(origin_model_px[1])
        width_px, height_px = size_xy_px
        values = self._bands[:, y0 : y0 + height_px, x0 : x0 + width_px]
        if self._valid is None:
            valid = np.ones(values.shape[1:], dtype=bool)
        else:
            valid = self._valid[y0 : y0 + height_px, x0 : x0 + width_px]
        return fill_and_pad(values, valid, size_xy_px, self.fill_value)

    def nodata_overview(self) -> tuple[np.ndarray, tuple[float, float]] | None:
        """The full-resolution valid mask (None: every pixel is data), for the nodata pre-screen."""
        return None if self._valid is None else (self._valid, (1.0, 1.0))

    def close(self) -> None:
        """Nothing to release (the same context use as a raster)."""

    def __enter__(self) -> ImageScene:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
