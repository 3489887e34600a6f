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
