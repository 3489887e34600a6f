"""Training images: the Airbus training split at the model's gsd plus scenes from our own generator."""

from __future__ import annotations

import numpy as np

from engine.training.patch_sampler import TrainingImage


def airbus_training_images(root: str, gsd_m: float, exclude_validation: bool = True) -> list[TrainingImage]:
    """Every annotated Airbus image except the fixed validation split, resampled to gsd_m."""
    from engine.datasets import airbus

    ids = airbus.training_ids(root) if exclude_validation else airbus.list_image_ids(root)
    images = []
    for image_id in ids:
        item = airbus.load_image(root, image_id, gsd_m=gsd_m)
        images.append(TrainingImage(item.image, item.boxes_px.astype(np.float32)))
    return images


def synthetic_training_images(count: int, size_px: int, seed: int) -> list[TrainingImage]:
    """Generated GF-1-like patches, so the project's own sample scene is in the training distribution."""
    from engine.synthetic.scene_generator import render_training_patch

    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image, boxes = render_training_patch(rng, size_px=size_px)
        images.append(TrainingImage(image, np.asarray(boxes, np.float32).reshape(-1, 4), synthetic=True))
    return images


def scene_training_images(
    root: str, gsd_m: float, count: int, seed: int, cache_dir: str, size_px: int = 3072, per_scene: int = 3
) -> list[TrainingImage]:
    """Training airports pasted into cluttered generated land (fields, roads, towns, water, clouds, roofs),
    read back as `r2cnn detect` reads a scene: the detector meets the open land it raises false alarms on."""
    import os

    from engine.config import ModelConfig
    from engine.datasets import airbus
    from engine.synthetic.scene_generator import read_truth
    from engine.synthetic.validation_scenes import Airport, build_scene
    from engine.training.raster_source import raster_training_image

    ids = airbus.training_ids(root)
    airports = {}
    rng = np.random.default_rng([seed, 0x5CE7E])
    os.makedirs(cache_dir, exist_ok=True)
    model = ModelConfig(gsd_m=gsd_m) if gsd_m != ModelConfig().gsd_m else ModelConfig()
    images = []
    for index in range(count):
        picked = [ids[i] for i in rng.choice(len(ids), size=min(per_scene, len(ids)), replace=False)]
        bits, clutter = int(rng.choice([10, 11, 12])), float(rng.uniform(1.0, 4.0))
        clouds, roofs = int(rng.integers(1, 4)), int(rng.integers(6, 31))
        path = os.path.join(cache_dir, f"train_scene_{seed}_{index:03d}.tif")
        if not os.path.exists(path):
            for image_id in picked:
                if image_id not in airports:
                    item = airbus.load_image(root, image_id, gsd_m=gsd_m)
                    airports[image_id] = Airport(item.image, item.boxes_px)
            build_scene(
                path, [airports[i] for i in picked], seed * 1000 + index, bits, (size_px, size_px),
                clouds=clouds, roofs_per_airport=roofs, workers=1, clutter=clutter,
            )  # fmt: skip
        images.append(raster_training_image(path, read_truth(path).boxes_raster_px, model))
    return images

