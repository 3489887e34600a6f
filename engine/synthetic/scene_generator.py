"""Procedural GF-1-like scenes with known aircraft boxes: in memory for tests and training, or as a
tiled GeoTIFF written block by block (bounded memory) for the demo and the benchmark."""

from __future__ import annotations

import csv
import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import OutputError
from engine.pipeline.stretch import scene_to_u8
from engine.synthetic.layout import SceneLayout, make_layout
from engine.synthetic.render import render_window

TRUTH_SUFFIX = ".boxes.csv"
TRUTH_COLUMNS = ("x0", "y0", "x1", "y1", "wingspan_px", "heading_deg")
BAND_GAINS = (1.0, 0.94, 0.88, 1.15)  # multispectral look-alike: one gain per band
DEFAULT_ORIGIN = (440000.0, 4440000.0)  # UTM 50N, near Beijing (GF-1 country)


@dataclass(frozen=True, eq=False)
class SceneArray:
    """A rendered scene: raw DN (0 = nodata), where data is valid, and the true aircraft boxes."""

    image_u16: np.ndarray  # (H, W) uint16
    valid_mask: np.ndarray  # (H, W) bool
    boxes_px: np.ndarray  # (B, 4) float32 x0, y0, x1, y1


@dataclass(frozen=True, eq=False)
class SceneTruth:
    """True aircraft boxes of a written scene, in raster pixels."""

    boxes_raster_px: np.ndarray  # (B, 4) float32
    path: str


def render_scene(
    rng: np.random.Generator,
    height: int,
    width: int,
    n_airports: int = 1,
    gsd_m: float = 2.0,
    nodata_margin: bool = True,
) -> SceneArray:
    """A whole small scene in memory (the layout seed comes from rng, so rng makes it reproducible)."""
    layout = make_layout(
        int(rng.integers(0, 2**31 - 1)),
        height,
        width,
        gsd_m=gsd_m,
        n_airports=n_airports,
        nodata_margin=nodata_margin,
    )
    values, valid = render_window(layout, 0, 0, height, width)
    return SceneArray(np.rint(values).astype(np.uint16), valid, layout.truth_boxes_px())


def truth_path(raster_path: str | os.PathLike) -> Path:
    """Where the true boxes of a scene live: next to it."""
    return Path(f"{os.fspath(raster_path)}{TRUTH_SUFFIX}")


def write_scene_geotiff(
    path: str | os.PathLike,
    height: int,
    width: int,
    seed: int,
    gsd_m: float = 2.0,
    crs: str = "EPSG:32650",
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    n_airports: int = 2,
    bands: int = 1,
    dtype: str = "uint16",
    overwrite: bool = True,
    workers: int = 2,
    block_size: int = 512,
    clutter: float = 1.0,
    paint=None,
) -> SceneTruth:
    """Write a tiled, deflate-compressed GeoTIFF (nodata 0) one block at a time, plus `<path>.boxes.csv`.

    Memory stays bounded by a few blocks whatever the scene size; blocks render on `workers` threads.
    clutter scales roads and building blocks (make_layout): 1 is the default land, 3-4 towns everywhere;
    paint(values, row0, col0), when given, draws into each rendered block in place (clouds: the bench).
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    if bands not in (1, 2, 3, 4):
        raise ValueError(f"bands must be 1 to 4, got {bands}")
    if dtype not in ("uint16", "uint8"):
        raise ValueError(f"dtype must be uint16 or uint8, got {dtype!r}")
    out_path = Path(path)
    if not out_path.parent.is_dir():
        raise OutputError(f"output folder does not exist: {out_path.parent}")
    if out_path.exists() and not overwrite:
        raise OutputError(f"{out_path} exists (use --overwrite to replace it)")
    layout = make_layout(seed, height, width, gsd_m=gsd_m, n_airports=n_airports, clutter=clutter)
    block = block_size if max(height, width) > block_size else 256
    profile = dict(
        driver="GTiff",
        height=height,
        width=width,
        count=bands,
        dtype=dtype,
        crs=crs,
        nodata=0,
        transform=from_origin(origin[0], origin[1], gsd_m, gsd_m),
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress="deflate",
        predictor=2,
        zlevel=1,
        bigtiff="IF_SAFER",
    )
    tmp_raster = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    tmp_truth = out_path.with_name(f".{out_path.name}{TRUTH_SUFFIX}.{os.getpid()}.tmp")
    try:
        with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(tmp_raster, "w", **profile) as dst:
            dst.update_tags(
                generator="r2cnn synthetic scene", seed=str(seed), n_aircraft=str(len(layout.planes))
            )
            for (row0, col0, rows, cols), values in render_blocks(layout, block, workers):
                if paint is not None:
                    paint(values, row0, col0)
                dst.write(_to_bands(values, bands, dtype), window=Window(col0, row0, cols, rows))
        _write_truth_csv(tmp_truth, layout)
        os.replace(tmp_raster, out_path)
        os.replace(tmp_truth, truth_path(out_path))
    except OSError as exc:
        raise OutputError(f"cannot write {out_path}: {exc}") from exc
    finally:
        for leftover in (tmp_raster, tmp_truth):
            leftover.unlink(missing_ok=True)
    return SceneTruth(layout.truth_boxes_px(), str(out_path))


def render_blocks(layout: SceneLayout, block: int, workers: int):
    """Blocks in row-major order, rendered a few ahead on a thread pool (numpy releases the GIL)."""
    windows = [
        (row0, col0, min(block, layout.height - row0), min(block, layout.width - col0))
        for row0 in range(0, layout.height, block)
        for col0 in range(0, layout.width, block)
    ]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        for window in windows:
            pending.append((window, pool.submit(render_window, layout, *window)))
            if len(pending) > 2 * max(1, workers):
                done_window, future = pending.popleft()
                yield done_window, future.result()[0]
        while pending:
            done_window, future = pending.popleft()
            yield done_window, future.result()[0]


def _to_bands(values: np.ndarray, bands: int, dtype: str) -> np.ndarray:
    """(bands, h, w) in the output dtype; valid pixels never reach 0 (the nodata value)."""
    top = 1023.0 if dtype == "uint16" else 255.0
    divisor = 1.0 if dtype == "uint16" else 4.0
    valid = values > 0
    out = np.empty((bands, *values.shape), dtype=dtype)
    for band in range(bands):
        scaled = np.clip(np.rint(values * np.float32(BAND_GAINS[band] / divisor)), 1.0, top)
        out[band] = np.where(valid, scaled, 0.0)
    return out


def _write_truth_csv(path: Path, layout: SceneLayout) -> None:
    """One row per aircraft: box in raster px, wingspan, heading."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRUTH_COLUMNS)
        for plane in layout.planes:
            x0, y0, x1, y1 = plane.box_px
            heading = math.degrees(plane.heading_rad) % 360.0
            writer.writerow(
                [
                    f"{x0:.2f}",
                    f"{y0:.2f}",
                    f"{x1:.2f}",
                    f"{y1:.2f}",
                    f"{plane.wingspan_px:.2f}",
                    f"{heading:.1f}",
                ]
            )


def read_truth(path: str | os.PathLike) -> SceneTruth:
    """The true boxes written next to a scene by write_scene_geotiff."""
    csv_path = truth_path(path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"no truth file next to {path} (expected {csv_path})")
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        boxes = [[float(row[key]) for key in TRUTH_COLUMNS[:4]] for row in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed truth file {csv_path}: {exc}") from exc
    return SceneTruth(np.asarray(boxes, dtype=np.float32).reshape(-1, 4), os.fspath(path))


def render_training_patch(
    rng: np.random.Generator,
    size_px: int = 640,
    empty_fraction: float = 0.2,
    min_visible: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """A training patch (image_u8 (P, P, 3), boxes_px (B, 4) float32): a window of a larger virtual scene,
    centred near an aircraft, or (empty_fraction of the time) on ground, runways or buildings without any.

    Boxes cut by the patch edge are clipped, and dropped when less than min_visible of them remains.
    """
    region = max(3 * size_px, 2048)
    want_aircraft = rng.random() >= empty_fraction
    for _ in range(10):
        layout = make_layout(
            int(rng.integers(0, 2**31 - 1)),
            region,
            region,
            n_airports=1 if want_aircraft or rng.random() < 0.6 else 0,
            nodata_margin=bool(rng.random() < 0.3),
        )
        origin = _patch_origin(rng, layout, size_px, want_aircraft)
        if origin is not None:
            break
    else:
        raise RuntimeError("could not place a training patch")  # practically unreachable
    col0, row0 = origin
    values, valid = render_window(layout, row0, col0, size_px, size_px)
    raw = np.rint(values).astype(np.uint16)[None]
    image_u8 = scene_to_u8(raw, valid, "percentile")[0]  # a crop rendered on its own, as the Airbus images are
    boxes = layout.truth_boxes_px() - np.array([col0, row0, col0, row0], dtype=np.float32)
    clipped = np.clip(boxes, 0.0, float(size_px))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = kept_area >= min_visible * np.maximum(area, 1e-6)
    return np.repeat(image_u8[:, :, None], 3, axis=2), clipped[keep].astype(np.float32)


def _patch_origin(
    rng: np.random.Generator, layout: SceneLayout, size_px: int, want_aircraft: bool
) -> tuple[int, int] | None:
    """(col0, row0) of a window holding an aircraft, or none at all; None when this layout can't give one."""
    span = layout.width - size_px
    if want_aircraft:
        if not layout.planes:
            return None
        plane = layout.planes[int(rng.integers(len(layout.planes)))]
        col0 = int(np.clip(plane.cx - rng.uniform(0.15, 0.85) * size_px, 0, span))
        row0 = int(np.clip(plane.cy - rng.uniform(0.15, 0.85) * size_px, 0, layout.height - size_px))
        return col0, row0
    extents = layout.plane_boxes
    for _ in range(30):
        if layout.surfaces and rng.random() < 0.5:  # near runways and buildings: hard negatives
            surface = layout.surfaces[int(rng.integers(len(layout.surfaces)))]
            col0 = int(np.clip(surface.cx - rng.uniform(0, size_px), 0, span))
            row0 = int(np.clip(surface.cy - rng.uniform(0, size_px), 0, layout.height - size_px))
        else:
            col0, row0 = int(rng.integers(0, span + 1)), int(rng.integers(0, layout.height - size_px + 1))
        hits = (
            (extents[:, 0] < col0 + size_px)
            & (extents[:, 2] > col0)
            & (extents[:, 1] < row0 + size_px)
            & (extents[:, 3] > row0)
        )
        if not hits.any():
            return col0, row0
    return None
