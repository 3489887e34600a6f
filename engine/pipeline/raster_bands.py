"""Which raster bands feed the network and how their values become 8 bits: decided once per scene."""

from __future__ import annotations

from rasterio.enums import ColorInterp

from engine.errors import RasterInputError

SUPPORTED_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")
STRETCH_MODES = ("local", "percentile", "divide4", "none")


def select_bands(
    path: str, count: int, colorinterp: tuple[ColorInterp, ...], bands: tuple[int, ...] | None
) -> tuple[tuple[int, ...], str | None]:
    """1-based band indexes (1 grey band, or R, G, B) and a note when the choice was a guess.

    --bands wins; one band is grey; otherwise red/green/blue by colour interpretation, a grey band
    with alpha is grey, and bands 1, 2, 3 are the fallback (with a note saying so).
    """
    if count < 1:
        raise RasterInputError(f"{path}: no raster bands (a container of subdatasets? open one of them)")
    if bands is not None:
        if len(bands) not in (1, 3):
            raise RasterInputError(f"--bands takes 1 or 3 band numbers, got {len(bands)}")
        bad = [b for b in bands if not 1 <= b <= count]
        if bad:
            raise RasterInputError(f"{path} has {count} band(s): no band {bad[0]}")
        return tuple(bands), None
    if count == 1:
        return (1,), None
    by_interp = {interp: index + 1 for index, interp in reversed(list(enumerate(colorinterp)))}
    if all(c in by_interp for c in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)):
        return (by_interp[ColorInterp.red], by_interp[ColorInterp.green], by_interp[ColorInterp.blue]), None
    non_alpha = [i + 1 for i, c in enumerate(colorinterp) if c != ColorInterp.alpha]
    if len(non_alpha) == 1:
        return (non_alpha[0],), None
    if count >= 3:
        return (
            1,
            2,
            3,
        ), f"{path}: no red/green/blue colour interpretation; using bands 1, 2, 3 (see --bands)"
    raise RasterInputError(f"{path}: unsupported band count {count} (need 1 grey or >= 3 bands; see --bands)")


def check_dtype(path: str, dtypes: tuple[str, ...], band_indexes: tuple[int, ...]) -> str:
    """The common data type of the chosen bands, refused when we cannot bring it to 8 bits."""
    chosen = {dtypes[b - 1] for b in band_indexes}
    for dtype in chosen:
        if dtype not in SUPPORTED_DTYPES:
            raise RasterInputError(
                f"{path}: unsupported data type {dtype} (supported: {', '.join(SUPPORTED_DTYPES)})"
            )
    if len(chosen) > 1:
        raise RasterInputError(f"{path}: the chosen bands mix data types ({', '.join(sorted(chosen))})")
    return chosen.pop()


def check_stretch_mode(mode: str) -> str:
    """percentile (scene-wide), divide4 (the paper's 10-bit mapping) or none (values clipped to 0..255)."""
    if mode not in STRETCH_MODES:
        raise RasterInputError(f"unknown stretch {mode!r} (expected one of {', '.join(STRETCH_MODES)})")
    return mode
