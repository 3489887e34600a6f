"""The bench's cluttered scene: GF-1-sized land with three times the default roads and building blocks (towns),
water, bright clouds and the nodata margin, beside today's smooth one; airports with synthetic aircraft."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CLUTTER = 3.0  # make_layout's clutter: roads and building blocks per km^2, x the default land
CLOUDS = 14
CLOUD_CLEARANCE_PX = 60  # clouds stay this far from every aircraft (they would hide it: no detector could)


def cluttered_scene_for(out_dir: Path, height: int, width: int, seed: int, airports: int) -> Path:
    """The cached cluttered scene (generated block by block on first use)."""
    from engine.synthetic.layout import make_layout
    from engine.synthetic.scene_generator import truth_path, write_scene_geotiff
    from engine.synthetic.validation_scenes import paint_blobs

    path = out_dir / f"scene_{height}x{width}_seed{seed}_a{airports}_clutter{CLUTTER:g}.tif"
    if path.is_file() and truth_path(path).is_file():
        return path
    print(f"generating {path} (once) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    layout = make_layout(seed, height, width, n_airports=airports, clutter=CLUTTER)
    blobs = place_clouds(np.random.default_rng([seed, 7]), layout.truth_boxes_px(), height, width, CLOUDS)
    write_scene_geotiff(
        path, height, width, seed=seed, n_airports=airports, clutter=CLUTTER,
        paint=lambda values, row0, col0: paint_blobs(values, row0, col0, blobs),
    )
    print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


def place_clouds(rng: np.random.Generator, boxes: np.ndarray, height: int, width: int, count: int) -> list:
    """Soft bright discs of 150-700 px radius, none within CLOUD_CLEARANCE_PX of an aircraft."""
    from engine.synthetic.validation_scenes import Blob

    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1) if len(boxes) else None
    clouds = []
    for _ in range(count):
        for _ in range(200):
            cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), float(rng.uniform(150, 700))
            ry = r * float(rng.uniform(0.5, 1.0))
            reach = 1.3 * max(r, ry) + CLOUD_CLEARANCE_PX  # the soft edge fades out at 1.3 radii
            if centres is not None and np.any(np.hypot(centres[:, 0] - cx, centres[:, 1] - cy) < reach):
                continue
            clouds.append(Blob(float(cx), float(cy), r, ry, float(rng.uniform(1000, 1400)), True))
            break
    return clouds
