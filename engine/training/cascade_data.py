"""Data for the cascade: generated scenes (smooth to cluttered land, synthetic aircraft) and scenes with real
Airbus training airports pasted in as raw DN (clouds, white roofs), written as GeoTIFFs and read back through
the detection pipeline's own reader: the same decimated read and local stretch as `r2cnn detect`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import CascadeConfig, DetectConfig, ModelConfig
from engine.ops.box_arrays import as_boxes, centres_inside
from engine.pipeline.cascade import decimated_patches, decimated_view
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.raster_reader import RasterScene
from engine.pipeline.scene import patch_fill_value
from engine.pipeline.tiling import tile_grid


@dataclass(frozen=True)
class SceneSpec:
    """One scene of the cascade's data: generated, or real airports pasted (airbus_ids non-empty)."""

    seed: int
    size_px: int
    clutter: float = 1.0
    airports: int = 1
    airbus_ids: tuple[str, ...] = ()
    bits: int = 10


@dataclass(frozen=True, eq=False)
class DecimatedScene:
    """A scene's decimated view (2, h, w) uint8, true boxes (model px) and its grid patches as detection cuts them."""

    name: str
    view_u8: np.ndarray
    boxes_px: np.ndarray  # (B, 4) at the model's gsd
    patches_u8: np.ndarray  # (n, 2, s, s) the grid's patches as the cascade sees them in detection
    positive: np.ndarray  # (n,) an aircraft centre inside the patch
    smallest_px: np.ndarray  # (n,) longest side of the smallest aircraft centred in the patch (inf: none)


def write_scene(spec: SceneSpec, folder: Path, airbus_root: str | None = None) -> Path:
    """The spec's GeoTIFF (and its truth CSV) in folder, written once."""
    from engine.synthetic.scene_generator import truth_path, write_scene_geotiff

    kind = "real" if spec.airbus_ids else "gen"
    path = folder / f"{kind}_{spec.seed}_{spec.size_px}_c{spec.clutter:g}.tif"
    if path.is_file() and truth_path(path).is_file():
        return path
    if spec.airbus_ids:
        from engine.datasets import airbus
        from engine.synthetic.validation_scenes import Airport, build_scene

        airports = []
        for image_id in spec.airbus_ids:
            item = airbus.load_image(airbus_root or airbus.DEFAULT_AIRBUS_ROOT, image_id, gsd_m=ModelConfig().gsd_m)
            airports.append(Airport(item.image, as_boxes(item.boxes_px)))
        build_scene(path, airports, spec.seed, spec.bits, (spec.size_px, spec.size_px), clouds=2, workers=1)
    else:
        write_scene_geotiff(path, spec.size_px, spec.size_px, spec.seed, n_airports=spec.airports, workers=1,
                            clutter=spec.clutter)
    return path


def read_scene(path: Path, cascade: CascadeConfig, model: ModelConfig | None = None) -> DecimatedScene:
    """read_scene_views, cached beside the scene (<scene>.cascade<step>.npz: the read is the slow part)."""
    model = model or ModelConfig()
    cache = path.with_name(f"{path.name}.cascade{cascade.step_model_px}x{cascade.in_channels}.npz")
    if cache.is_file():
        with np.load(cache) as saved:
            return DecimatedScene(path.name, *(saved[k] for k in _CACHED))
    scene = read_scene_views(path, cascade, model)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, **{k: getattr(scene, k) for k in _CACHED})
    tmp.replace(cache)
    return scene


_CACHED = ("view_u8", "boxes_px", "patches_u8", "positive", "smallest_px")


def read_scene_views(path: Path, cascade: CascadeConfig, model: ModelConfig) -> DecimatedScene:
    """Through RasterScene as detect_raster reads it: the whole decimated view, and each grid patch's."""
    from engine.synthetic.scene_generator import read_truth

    boxes = read_truth(path).boxes_raster_px
    step, tile = int(cascade.step_model_px), int(model.patch_size)
    with RasterScene(str(path), model.gsd_m, None, None, DetectConfig().stretch, patch_fill_value(model)) as scene:
        width, height = scene.size_model_px
        view = decimated_view(scene, (0, 0), (math.ceil(width / step), math.ceil(height / step)), step)
        origins = tile_grid(width, height, tile, model.overlap)
        keep = ~nodata_patches(scene, origins, tile)
        rows: dict[int, list[int]] = {}
        for index in np.flatnonzero(keep).tolist():
            rows.setdefault(int(origins[index, 1]), []).append(index)
        cut = [decimated_patches(scene, origins, tile, step, row) for row in rows.values()]
    index = np.concatenate([i for i, _ in cut])
    patches = np.concatenate([p for _, p in cut])
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) if len(boxes) else np.zeros(0)
    positive, smallest = np.zeros(len(index), bool), np.full(len(index), np.inf)
    for k, (x, y) in enumerate(origins[index].tolist()):
        inside = centres_inside(boxes, x, y, tile)
        positive[k] = bool(inside.any())
        smallest[k] = float(sides[inside].min()) if inside.any() else np.inf
    return DecimatedScene(path.name, view, boxes, patches, positive, smallest)


def scene_specs(
    count: int, seed: int, size_px: int, airbus_ids: list[str], real_share: float = 0.35
) -> list[SceneSpec]:
    """count scenes: clutter drawn from smooth (0.3) to towns everywhere (4), a share with real airports."""
    rng = np.random.default_rng(seed)
    specs, pool = [], list(airbus_ids)
    for k in range(count):
        clutter = float(np.exp(rng.uniform(np.log(0.3), np.log(4.0))))
        if pool and rng.random() < real_share:
            take = tuple(pool.pop(int(rng.integers(len(pool)))) for _ in range(min(2, len(pool))))
            specs.append(SceneSpec(seed + k, size_px, clutter, 0, take, int(rng.choice([10, 11, 12]))))
        else:
            specs.append(SceneSpec(seed + k, size_px, clutter, int(rng.integers(0, 3))))
    return specs
