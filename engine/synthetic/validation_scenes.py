"""Whole-scene validation set: real validation airports pasted into GF-1-sized uint16 scenes.

Each scene is a procedural background without aircraft (fields, water, roads, buildings, a nodata margin)
at 2 m, with bright distractors (clouds, white roofs) and the validation images pasted in as raw DN of a
10-, 11- or 12-bit sensor. Their boxes are the truth, so recall and precision on a scene measure the
deployed pipeline (stretch, tiling, gate, merge) on real aircraft, at the size users open.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import OutputError
from engine.synthetic.layout import SceneLayout, make_layout
from engine.synthetic.scene_generator import DEFAULT_ORIGIN, TRUTH_COLUMNS, render_blocks, truth_path
from engine.synthetic.valid_footprint import inside_footprint

GF1_SIZE_PX = (18192, 18000)  # rows, cols of a GF-1 PMS panchromatic scene
FEATHER_PX = 24  # pasted images blend into the background over this many px
BACKGROUND_TOP_DN = 1023.0  # the procedural background is rendered as 10-bit DN


@dataclass(frozen=True)
class Airport:
    """One labelled image at the scene's gsd: (H, W, 3) uint8 and its boxes in image px."""

    image_u8: np.ndarray
    boxes_px: np.ndarray


@dataclass(frozen=True)
class Paste:
    """An airport placed in a scene: its top-left corner, raw DN and blending weight."""

    col0: int
    row0: int
    dn: np.ndarray  # (h, w) float32, in the 10-bit background's units
    alpha: np.ndarray  # (h, w) float32


@dataclass(frozen=True)
class Blob:
    """A bright distractor: a cloud (soft disc) or a white roof (rectangle)."""

    cx: float
    cy: float
    rx: float
    ry: float
    level: float
    soft: bool


def build_scene(
    path: str | os.PathLike,
    airports: list[Airport],
    seed: int,
    bits: int,
    size_px: tuple[int, int] = GF1_SIZE_PX,
    clouds: int = 5,
    roofs_per_airport: int = 12,
    workers: int = 2,
    clutter: float = 1.0,
) -> np.ndarray:
    """Write one scene (tiled GeoTIFF, nodata 0) and `<path>.boxes.csv`; returns the true boxes (B, 4).

    clutter scales how many roads, fields, towns and water bodies the land holds (1: the default layout).
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    if bits not in (10, 11, 12):
        raise ValueError(f"bits must be 10, 11 or 12, got {bits}")
    height, width = size_px
    rng = np.random.default_rng([seed, bits])
    layout = make_layout(seed, height, width, n_airports=0, stray_aircraft=False, clutter=clutter)
    pastes, boxes = _place_airports(rng, layout, airports)
    blobs = _distractors(rng, layout, pastes, clouds, roofs_per_airport)
    gain = 2.0 ** (bits - 10)
    out_path = Path(path)
    tmp_raster = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    profile = dict(
        driver="GTiff", height=height, width=width, count=1, dtype="uint16", crs="EPSG:32650", nodata=0,
        transform=from_origin(*DEFAULT_ORIGIN, 2.0, 2.0), tiled=True, blockxsize=512, blockysize=512,
        compress="deflate", predictor=2, zlevel=1, bigtiff="IF_SAFER",
    )  # fmt: skip
    try:
        with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(tmp_raster, "w", **profile) as dst:
            dst.update_tags(generator="r2cnn whole-scene validation set", seed=str(seed), bits=str(bits))
            for (row0, col0, rows, cols), values in render_blocks(layout, 512, workers):
                valid = values > 0
                _paint(values, row0, col0, pastes, blobs)
                noise = np.random.default_rng([seed, bits, row0, col0]).normal(0.0, 0.5, values.shape)
                top = (2.0**bits) - 1.0
                dn = np.clip(np.rint(values * gain + noise * gain), 1.0, top).astype(np.uint16)
                dst.write(np.where(valid, dn, 0)[None], window=Window(col0, row0, cols, rows))
        _write_truth(truth_path(out_path), boxes)
        os.replace(tmp_raster, out_path)
    except OSError as exc:
        raise OutputError(f"cannot write {out_path}: {exc}") from exc
    finally:
        tmp_raster.unlink(missing_ok=True)
    return boxes


def to_raw_dn(image_u8: np.ndarray, rng: np.random.Generator, ground_dn: float) -> np.ndarray:
    """A display-rendered 8-bit image back to a sensor's linear DN (10-bit units): dark offset, gamma, gain."""
    grey = image_u8.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    dark = float(rng.uniform(0.35, 0.6)) * ground_dn
    bright = float(rng.uniform(880.0, BACKGROUND_TOP_DN))
    gamma = float(rng.uniform(1.0, 1.6))
    return dark + (bright - dark) * (grey / 255.0) ** gamma


def _place_airports(
    rng: np.random.Generator, layout: SceneLayout, airports: list[Airport]
) -> tuple[list[Paste], np.ndarray]:
    """Each airport at a random spot inside the footprint, none overlapping another."""
    pastes: list[Paste] = []
    boxes = []
    for airport in airports:
        h, w = airport.image_u8.shape[:2]
        for _ in range(500):
            col0 = int(rng.integers(0, max(1, layout.width - w)))
            row0 = int(rng.integers(0, max(1, layout.height - h)))
            box = (col0, row0, col0 + w, row0 + h)
            if not inside_footprint(layout.footprint, layout.height, layout.width, box, 8.0):
                continue
            if any(_overlaps(box, p, 2 * FEATHER_PX) for p in pastes):
                continue
            break
        else:
            raise ValueError("the scene is too small for its airports")
        dn = to_raw_dn(airport.image_u8, rng, layout.style.ground_level)
        pastes.append(Paste(col0, row0, dn.astype(np.float32), _feather(h, w)))
        boxes.append(airport.boxes_px.reshape(-1, 4) + np.array([col0, row0, col0, row0], np.float32))
    return pastes, np.concatenate(boxes).astype(np.float32) if boxes else np.zeros((0, 4), np.float32)


def _distractors(
    rng: np.random.Generator, layout: SceneLayout, pastes: list[Paste], clouds: int, roofs_per_airport: int
) -> list[Blob]:
    """Clouds away from the airports (they would hide aircraft) and white roofs, some near each airport."""
    blobs = []
    for _ in range(clouds):
        for _ in range(200):
            cx, cy = rng.uniform(0, layout.width), rng.uniform(0, layout.height)
            r = float(rng.uniform(150, 700))
            if not any(_overlaps((cx - r, cy - r, cx + r, cy + r), p, 0) for p in pastes):
                blobs.append(Blob(cx, cy, r, r * float(rng.uniform(0.5, 1.0)), float(rng.uniform(1000, 1400)), True))
                break
    for paste in pastes:
        h, w = paste.dn.shape
        for _ in range(roofs_per_airport):
            side = -1 if rng.random() < 0.5 else 1
            cx = paste.col0 + w / 2 + side * rng.uniform(w / 2 + 30, w / 2 + 400)
            cy = paste.row0 + rng.uniform(-200, h + 200)
            blobs.append(
                Blob(cx, cy, rng.uniform(4, 20), rng.uniform(4, 20), float(rng.uniform(900, BACKGROUND_TOP_DN)), False)
            )
    return blobs


def _paint(values: np.ndarray, row0: int, col0: int, pastes: list[Paste], blobs: list[Blob]) -> None:
    """Blend the pasted airports and distractors overlapping one block into it (in place, valid px only)."""
    rows, cols = values.shape
    valid = values > 0
    for paste in pastes:
        h, w = paste.dn.shape
        r0, r1 = max(row0, paste.row0), min(row0 + rows, paste.row0 + h)
        c0, c1 = max(col0, paste.col0), min(col0 + cols, paste.col0 + w)
        if r0 >= r1 or c0 >= c1:
            continue
        block = values[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0]
        alpha = paste.alpha[r0 - paste.row0 : r1 - paste.row0, c0 - paste.col0 : c1 - paste.col0]
        dn = paste.dn[r0 - paste.row0 : r1 - paste.row0, c0 - paste.col0 : c1 - paste.col0]
        block[...] = alpha * dn + (1.0 - alpha) * block
    ys, xs = np.mgrid[row0 : row0 + rows, col0 : col0 + cols].astype(np.float32) + 0.5
    for blob in blobs:
        if abs(blob.cx - (col0 + cols / 2)) > blob.rx + cols or abs(blob.cy - (row0 + rows / 2)) > blob.ry + rows:
            continue
        if blob.soft:
            d = np.hypot((xs - blob.cx) / blob.rx, (ys - blob.cy) / blob.ry)
            weight = np.clip(1.3 - d, 0.0, 1.0) ** 0.7
        else:
            weight = ((np.abs(xs - blob.cx) <= blob.rx) & (np.abs(ys - blob.cy) <= blob.ry)).astype(np.float32)
        values[...] = weight * blob.level + (1.0 - weight) * values
    values[~valid] = 0.0


def paint_blobs(values: np.ndarray, row0: int, col0: int, blobs: list[Blob]) -> None:
    """Distractors (clouds, roofs) into one rendered block, in place, valid px only."""
    _paint(values, row0, col0, [], blobs)


def _feather(h: int, w: int) -> np.ndarray:
    """1 inside, ramping to 0 over FEATHER_PX at the edges."""
    ramp_y = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / FEATHER_PX, 0.0, 1.0)
    ramp_x = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / FEATHER_PX, 0.0, 1.0)
    return np.minimum(ramp_y[:, None], ramp_x[None, :]).astype(np.float32)


def _overlaps(box: tuple, paste: Paste, margin: float) -> bool:
    """Whether box comes within margin px of a placed airport."""
    h, w = paste.dn.shape
    return not (
        box[2] + margin <= paste.col0
        or box[0] - margin >= paste.col0 + w
        or box[3] + margin <= paste.row0
        or box[1] - margin >= paste.row0 + h
    )


def _write_truth(path: Path, boxes: np.ndarray) -> None:
    """The true boxes in the generator's CSV form (size and heading unknown for real aircraft)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRUTH_COLUMNS)
        for x0, y0, x1, y1 in boxes.tolist():
            writer.writerow([f"{x0:.2f}", f"{y0:.2f}", f"{x1:.2f}", f"{y1:.2f}", f"{max(x1 - x0, y1 - y0):.2f}", ""])
    os.replace(tmp, path)
