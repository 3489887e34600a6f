"""Reads a raster window by window at the model's gsd, 8-bit via one scene-wide stretch; never all at once."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import rasterio
from rasterio.enums import MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.windows import Window

from engine.atomic_output import is_gdal_virtual
from engine.config import DetectConfig, ModelConfig
from engine.errors import RasterInputError, first_line
from engine.file_checks import not_a_regular_file
from engine.pipeline import georef, stretch
from engine.pipeline.raster_bands import check_dtype, check_stretch_mode, select_bands
from engine.pipeline.scene import PIXEL_SPACE_TRANSFORM, Patch, fill_and_pad, patch_fill_value, read_patch
from engine.pipeline.tiling import scene_size_model_px

OVERVIEW_MAX_PX = stretch.OVERVIEW_MAX_PX
# GDAL's block cache defaults to 5 % of RAM (6 GB on a 128 GB machine) and fills up over a whole scene;
# a row-major pass only needs about two rows of blocks, so a fixed cap keeps memory flat at any size.
GDAL_CACHE_BYTES = 256 * 1024 * 1024


def bounded_gdal_cache(cache_bytes: int = GDAL_CACHE_BYTES) -> rasterio.Env:
    """Context in which GDAL's (process-wide) block cache is capped; the previous size comes back after."""
    return rasterio.Env(GDAL_CACHEMAX=int(cache_bytes))


def open_model_scene(
    path: str, model: ModelConfig, config: DetectConfig, gsd_m: float | None = None
) -> RasterScene:
    """A raster as this model sees it (its gsd, the run's bands and stretch, padded with the model's fill value):
    detection, evaluation and training all open rasters here. gsd_m: a reader's known gsd, over config.gsd_m."""
    gsd = config.gsd_m if gsd_m is None else gsd_m
    return RasterScene(path, model.gsd_m, config.bands, gsd, config.stretch, patch_fill_value(model))


class RasterScene:
    """An open raster with its georeference, ground resolution, band choice and (lazy) scene-wide stretch."""

    def __init__(
        self,
        path: str,
        model_gsd_m: float,
        bands: tuple[int, ...] | None = None,
        gsd_m: float | None = None,
        stretch_mode: str = "percentile",
        fill_value: float = 0.0,
    ):
        self.path = path
        self.notes: list[str] = []  # warnings for the user (pixel space, guessed bands)
        self._dataset = _open(path)
        try:
            self._init(model_gsd_m, bands, gsd_m, stretch_mode, fill_value)
        except Exception:
            self._dataset.close()
            raise

    def _init(self, model_gsd_m, bands, gsd_m, stretch_mode, fill_value) -> None:
        """Everything decided once per scene: bands, dtype, georeference, gsd, model-px size."""
        ds = self._dataset
        self.width_px, self.height_px = ds.width, ds.height
        self.band_indexes, note = select_bands(self.path, ds.count, tuple(ds.colorinterp), bands)
        if note:
            self.notes.append(note)
        self.dtype = check_dtype(self.path, tuple(ds.dtypes), self.band_indexes)
        self.stretch_mode = check_stretch_mode(stretch_mode)
        if gsd_m is not None and not (gsd_m > 0 and math.isfinite(gsd_m)):
            raise RasterInputError(f"--gsd must be a positive number of metres, got {gsd_m}")
        self._init_georeference(model_gsd_m, gsd_m)
        self.model_gsd_m = float(model_gsd_m)
        self.scale_xy = (self.model_gsd_m / self.gsd_xy_m[0], self.model_gsd_m / self.gsd_xy_m[1])
        self.size_model_px = scene_size_model_px(self.width_px, self.height_px, *self.scale_xy)
        self.fill_value = fill_value
        self._nodata = [ds.nodatavals[b - 1] for b in self.band_indexes]
        flags = [set(ds.mask_flag_enums[b - 1]) for b in self.band_indexes]
        self._mask_kind = (
            "none"
            if all(f == {MaskFlags.all_valid} for f in flags)
            else "nodata"
            if all(MaskFlags.nodata in f for f in flags)
            else "mask"
        )
        self._stretch: stretch.Stretch | None = None
        self._lut: np.ndarray | None = None
        self._overview_valid: np.ndarray | None = None

    def _init_georeference(self, model_gsd_m: float, gsd_m: float | None) -> None:
        """CRS, transform and the ground size of a pixel: from the geotransform, or --gsd / the model's."""
        ds = self._dataset
        problem = None if ds.transform.is_identity else georef.transform_problem(ds.transform)
        if problem is not None:
            raise RasterInputError(
                f"{self.path}: its geotransform {tuple(ds.transform)[:6]} {problem}: fix or remove its georeference"
            )
        self.crs_wkt = ds.crs.to_wkt() if ds.crs else None
        self.georeferenced = self.crs_wkt is not None and not ds.transform.is_identity
        self.transform = ds.transform if not ds.transform.is_identity else PIXEL_SPACE_TRANSFORM
        if not self.georeferenced:
            self.crs_wkt = None
            if gsd_m is None and not ds.transform.is_identity:  # a geotransform without a CRS: trust its pixel size
                self.gsd_xy_m = georef.pixel_size_map_units(ds.transform)
                self.notes.append(
                    f"{os.path.basename(self.path)} has no CRS: pixel size {self.gsd_xy_m[0]:g} x {self.gsd_xy_m[1]:g} "
                    f"from its geotransform, assumed to be metres (see --gsd); the output has no CRS"
                )
                return
            source = "--gsd" if gsd_m is not None else "the model's"
            self.gsd_xy_m = (gsd_m or model_gsd_m,) * 2
            self.notes.append(
                f"{os.path.basename(self.path)} has no georeference: processed in pixel space "
                f"(ground resolution {self.gsd_xy_m[0]:g} m from {source})"
            )
            return
        if gsd_m is not None:
            self.gsd_xy_m = (gsd_m, gsd_m)
            return
        if ds.crs.is_geographic:
            centre_lat = (ds.transform * (ds.width / 2.0, ds.height / 2.0))[1]
            self.gsd_xy_m = georef.pixel_size_m(ds.transform, True, 1.0, centre_lat)
        else:
            units_to_m = _metres_per_unit(ds.crs)
            if units_to_m is None:  # metres would be a guess that can be wrong by 1000 x
                raise RasterInputError(
                    f"{self.path}: the linear unit of its CRS is unknown, so its pixel size is too: give --gsd"
                )
            self.gsd_xy_m = georef.pixel_size_m(ds.transform, False, units_to_m)

    @property
    def stretch(self) -> stretch.Stretch | stretch.LocalStretch:
        """One mapping to 8 bits for the whole scene (so all patches agree); computed on first use."""
        if self._stretch is None:
            raw = valid = None
            if self.dtype != "uint8" and self.stretch_mode in ("percentile", "local"):
                raw, valid = self.read_overview(OVERVIEW_MAX_PX)
                self._overview_valid = valid  # reused by the nodata pre-screen
            width, height = self.size_model_px
            per_sample = (1.0, 1.0) if raw is None else (width / raw.shape[2], height / raw.shape[1])
            sample = raw if raw is not None else np.zeros((len(self.band_indexes), 1, 1), np.float32)
            self._stretch = stretch.scene_stretch(
                self.stretch_mode, self.dtype, sample, valid, per_sample, self.size_model_px
            )
        return self._stretch

    def adopt_stretch(self, mapping: stretch.Stretch | stretch.LocalStretch) -> None:
        """Use the mapping another reader of this scene computed (an archive block: one decimated read per scene)."""
        self._stretch = mapping

    def read_overview(self, max_px: int) -> tuple[np.ndarray, np.ndarray]:
        """Decimated raw read (bands, h, w) of the whole scene and its valid mask: stretch and quicklook."""
        factor = max(1.0, max(self.width_px, self.height_px) / max_px)
        out_h = max(1, int(round(self.height_px / factor)))
        out_w = max(1, int(round(self.width_px / factor)))
        window = Window(0, 0, self.width_px, self.height_px)
        return self._read(window, out_h, out_w, Resampling.nearest)

    def thumbnail_u8(self, max_px: int) -> tuple[np.ndarray, tuple[float, float]]:
        """(3, h, w) uint8 picture of the scene and its scale (raster px per thumbnail px, x and y)."""
        raw, valid = self.read_overview(max_px)
        width, height = self.size_model_px
        step = max(width / raw.shape[2], height / raw.shape[1])
        image = np.broadcast_to(self.to_u8(raw, (0.0, 0.0), step), (3, *raw.shape[1:])).copy()
        image[:, ~valid] = 0
        return image, (self.width_px / raw.shape[2], self.height_px / raw.shape[1])

    def read_patch(self, origin_model_px: tuple[int, int], size_px: int) -> Patch:
        """The (3, P, P) uint8 patch at a model-px origin, resampled on read; padding and nodata get fill."""
        return read_patch(self, origin_model_px, size_px)

    def read_region_u8(
        self, origin_model_px: tuple[int, int], size_xy_px: tuple[int, int], step_model_px: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(bands, h, w) uint8 of a model-px region (one patch or a window of them) and its valid mask.

        Resampled on read to the model's gsd (step_model_px > 1: each output pixel averages step x step model
        px, the cascade's decimated view); nodata and the part past the raster get the fill value and valid False.
        """
        width_px, height_px = size_xy_px
        sx, sy = self.scale_xy[0] * step_model_px, self.scale_xy[1] * step_model_px
        col0, row0 = origin_model_px[0] * self.scale_xy[0], origin_model_px[1] * self.scale_xy[1]
        col1 = min((origin_model_px[0] + width_px * step_model_px) * self.scale_xy[0], self.width_px)
        row1 = min((origin_model_px[1] + height_px * step_model_px) * self.scale_xy[1], self.height_px)
        out_w = int(min(width_px, max(1, round((col1 - col0) / sx))))
        out_h = int(min(height_px, max(1, round((row1 - row0) / sy))))
        resampling = Resampling.average if min(sx, sy) > 1.0 else Resampling.bilinear
        raw, valid = self._read(Window(col0, row0, col1 - col0, row1 - row0), out_h, out_w, resampling)
        u8 = self.to_u8(raw, origin_model_px, float(step_model_px))
        return fill_and_pad(u8, valid, size_xy_px, self.fill_value)

    def nodata_overview(self, max_px: int = OVERVIEW_MAX_PX) -> tuple[np.ndarray, tuple[float, float]] | None:
        """Decimated valid mask of the whole scene and its scale (model px per mask px, x and y), from
        one small read; None when the raster has no nodata or mask (every pixel is data)."""
        if self._mask_kind == "none" and self.dtype not in ("float32", "float64"):
            return None
        if self._overview_valid is None:
            _, self._overview_valid = self.read_overview(max_px)
        mask = self._overview_valid
        width, height = self.size_model_px
        return mask, (width / mask.shape[1], height / mask.shape[0])

    def to_u8(
        self, raw: np.ndarray, origin_model_px: tuple[float, float] = (0.0, 0.0), step_model_px: float = 1.0
    ) -> np.ndarray:
        """Raw (bands, h, w) whose first pixel is at origin (model px) -> uint8 with the scene's stretch
        (a lookup table for 8/16-bit integers under a scene-wide one)."""
        mapping = self.stretch
        if isinstance(mapping, stretch.LocalStretch):
            return mapping.apply_at(raw, origin_model_px, step_model_px)
        if self._lut is None and self.dtype in ("uint8", "int8", "uint16", "int16"):
            self._lut = stretch.lookup_table(mapping, self.dtype)
        if self._lut is not None:
            return stretch.apply_lookup_table(self._lut, raw)
        return mapping.apply(raw)

    def _read(
        self, window: Window, out_h: int, out_w: int, resampling: Resampling
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw bands (b, out_h, out_w) of a window and its valid mask (out_h, out_w) from the dataset mask."""
        ds = self._dataset
        shape = (len(self.band_indexes), out_h, out_w)
        try:
            raw = ds.read(self.band_indexes, window=window, out_shape=shape, resampling=resampling)
            if self._mask_kind == "mask":
                valid = ds.read_masks(self.band_indexes[0], window=window, out_shape=(out_h, out_w)) > 0
            elif self._mask_kind == "nodata":
                valid = ~np.all(_equals_nodata(raw, self._nodata), axis=0)
            else:
                valid = np.ones((out_h, out_w), dtype=bool)
        except (RasterioError, RasterioIOError) as exc:
            raise RasterInputError(f"{self.path}: read failed ({exc})") from exc
        if raw.dtype.kind == "f":
            finite = np.isfinite(raw)
            valid &= np.all(finite, axis=0)
            raw[~finite] = 0  # masked anyway; keeps the 8-bit cast clean
        return raw, valid

    def close(self) -> None:
        """Release the GDAL dataset."""
        self._dataset.close()

    def __enter__(self) -> RasterScene:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _equals_nodata(raw: np.ndarray, nodata: list[float | None]) -> np.ndarray:
    """Per band: where the value is the band's nodata value (NaN nodata matches NaN)."""
    out = np.zeros(raw.shape, dtype=bool)
    for index, value in enumerate(nodata):
        if value is None:
            continue
        out[index] = (
            np.isnan(raw[index]) if isinstance(value, float) and math.isnan(value) else raw[index] == value
        )
    return out


def _metres_per_unit(crs) -> float | None:
    """Metres per CRS unit: PROJ's for projected CRSs, the WKT's own UNIT for local ones (feet...), else None."""
    try:
        factor = float(crs.linear_units_factor[1])
    except Exception:  # local / engineering CRSs: rasterio gives no factor
        from osgeo import osr

        wkt = crs.to_wkt()
        srs = osr.SpatialReference()
        if "UNIT[" not in wkt.upper() or srs.ImportFromWkt(wkt) != 0 or srs.GetLinearUnitsName().lower() == "unknown":
            return None
        factor = float(srs.GetLinearUnits())
    return factor if factor > 0 and math.isfinite(factor) else None


def _open(path: str):
    """Open read-only; missing, unreadable and non-raster files become one clear RasterInputError."""
    virtual = is_gdal_virtual(path)  # /vsizip/..., GTIFF_DIR:2:...: GDAL, not os.path, knows whether it exists
    if not virtual and not os.path.exists(path):
        raise RasterInputError(f"raster not found: {path}")
    if not virtual and os.path.isdir(path):
        raise RasterInputError(f"{path} is a folder, not a raster file")
    special = None if virtual else not_a_regular_file(path)
    if special is not None:
        raise RasterInputError(special)
    if not virtual and not os.access(path, os.R_OK):
        raise RasterInputError(f"cannot read {path} (permission denied)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except (RasterioError, RasterioIOError) as exc:
        raise RasterInputError(
            f"{path} is not a raster GDAL can read ({first_line(exc, 160)})"
        ) from exc
