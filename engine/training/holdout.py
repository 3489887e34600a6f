"""Fine-tuning data from the user's labelled rasters: each raster cut into blocks at the model's gsd (a
small image is one block), a seeded share of the blocks held out for validation, the rest for training.
Blocks are read window by window through RasterScene (the radiometry contract: the 8-bit pixels
`r2cnn detect` shows the network), so a raster of any size is never loaded whole."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from engine.config import DetectConfig, ModelConfig
from engine.datasets.airbus import DatasetError, LabelledImage
from engine.datasets.labelled import LabelledSet
from engine.ops.box_arrays import boxes_to_model_px
from engine.pipeline.raster_reader import RasterScene, open_model_scene
from engine.training.patch_sampler import TrainingImage
from engine.training.raster_source import hwc3


@dataclass(frozen=True)
class HoldoutConfig:
    """How the held-out part is chosen: reproducibly from the data, the fraction and the seed."""

    fraction: float = 0.2  # of the blocks with aircraft, and of those without
    block_px: int = 1024  # side of a block in model px (about 2 km at 2 m); smaller images are one block
    seed: int = 0
    empty_per_positive: float = 2.0  # training keeps at most this many aircraft-free blocks per block with aircraft


@dataclass(frozen=True)
class Block:
    """A part of one raster: its region in model px and how many reference centres lie in it."""

    raster: int  # index into LabelledSet.items
    region_model_px: tuple[int, int, int, int]
    aircraft: int


@dataclass(frozen=True)
class Holdout:
    """The split: blocks to train on and blocks to validate on (never both)."""

    train: tuple[Block, ...]
    val: tuple[Block, ...]

    def to_dict(self, data: LabelledSet) -> dict:
        """For split.json: enough to see, and re-check, what was held out."""
        def rows(blocks):
            return [{"raster": data.items[b.raster].path, "region_model_px": list(b.region_model_px),
                     "aircraft": b.aircraft} for b in blocks]
        return {"train": rows(self.train), "val": rows(self.val)}


def plan_blocks(data: LabelledSet, model: ModelConfig, config: HoldoutConfig, detect: DetectConfig) -> list[Block]:
    """Every raster's blocks (near-equal sides <= block_px), each reference counted where its centre lies."""
    blocks = []
    for index, item in enumerate(data.items):
        with _open(item, model, detect) as scene:
            width, height = scene.size_model_px
            boxes = boxes_to_model_px(item.boxes_raster_px, scene.scale_xy)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        for y0, y1 in _spans(height, config.block_px):
            for x0, x1 in _spans(width, config.block_px):
                inside = (centres[:, 0] >= x0) & (centres[:, 0] < x1) & (centres[:, 1] >= y0) & (centres[:, 1] < y1)
                blocks.append(Block(index, (x0, y0, x1, y1), int(inside.sum())))
    return blocks


def split_holdout(blocks: list[Block], config: HoldoutConfig) -> Holdout:
    """A seeded share of the blocks with aircraft and of those without; at least one of each kind with
    aircraft on both sides (DatasetError when the data cannot give that)."""
    if not 0.0 < config.fraction < 1.0:
        raise DatasetError(f"the validation fraction must be between 0 and 1, got {config.fraction}")
    rng = np.random.default_rng(config.seed)
    positive = [b for b in blocks if b.aircraft]
    empty = [b for b in blocks if not b.aircraft]
    if len(positive) < 2:
        raise DatasetError(
            f"fine-tuning needs aircraft in at least two blocks of {config.block_px} model px (one to train on, one "
            f"to validate on); the data have {len(positive)}: add rasters or reference polygons"
        )
    n_val = min(len(positive) - 1, max(1, round(config.fraction * len(positive))))
    order = rng.permutation(len(positive))
    val = [positive[i] for i in sorted(order[:n_val])]
    train = [positive[i] for i in sorted(order[n_val:])]
    order = rng.permutation(len(empty))
    n_empty_val = round(config.fraction * len(empty))
    val += [empty[i] for i in sorted(order[:n_empty_val])]
    cap = max(4, math.ceil(config.empty_per_positive * len(train)))
    train += [empty[i] for i in sorted(order[n_empty_val:][:cap])]
    key = lambda b: (b.raster, b.region_model_px[1], b.region_model_px[0])  # noqa: E731
    return Holdout(tuple(sorted(train, key=key)), tuple(sorted(val, key=key)))


def training_images(data: LabelledSet, blocks, model: ModelConfig, detect: DetectConfig) -> list[TrainingImage]:
    """The training blocks as sampler images (blocks without any data left out)."""
    found = read_blocks(data, blocks, model, detect)
    return [TrainingImage(image, boxes.astype(np.float32)) for _, image, _, boxes in found]


def validation_images(data: LabelledSet, blocks, model: ModelConfig, detect: DetectConfig) -> list[LabelledImage]:
    """The held-out blocks as labelled images with their valid masks (what evaluation and calibration take)."""
    images = []
    for block, image, valid, boxes in read_blocks(data, blocks, model, detect):
        name = f"{data.items[block.raster].name}@{block.region_model_px[0]},{block.region_model_px[1]}"
        images.append(LabelledImage(name, image, boxes.astype(np.float32), np.zeros(len(boxes), bool),
                                    None if valid.all() else valid))
    return images


def read_blocks(
    data: LabelledSet, blocks, model: ModelConfig, detect: DetectConfig
) -> Iterator[tuple[Block, np.ndarray, np.ndarray, np.ndarray]]:
    """(block, (h, w, 3) uint8, valid (h, w), boxes in block px) for each block holding data; one raster open
    at a time, one block in memory while it is read."""
    by_raster: dict[int, list[Block]] = {}
    for block in blocks:
        by_raster.setdefault(block.raster, []).append(block)
    for index, raster_blocks in sorted(by_raster.items()):
        item = data.items[index]
        with _open(item, model, detect) as scene:
            boxes = boxes_to_model_px(item.boxes_raster_px, scene.scale_xy)
            for block in raster_blocks:
                x0, y0, x1, y1 = block.region_model_px
                values, valid = scene.read_region_u8((x0, y0), (x1 - x0, y1 - y0))
                if not valid.any():
                    continue
                yield block, hwc3(values), valid, _block_boxes(boxes, block)


def _open(item, model: ModelConfig, detect: DetectConfig) -> RasterScene:
    """The raster as detect_raster opens it (gsd from the reader, else the config's)."""
    return open_model_scene(item.path, model, detect, item.gsd_m)


def _block_boxes(boxes: np.ndarray, block: Block) -> np.ndarray:
    """References whose centre lies in the block, in block px, clipped to it (cut like an image border)."""
    x0, y0, x1, y1 = block.region_model_px
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    inside = (centres[:, 0] >= x0) & (centres[:, 0] < x1) & (centres[:, 1] >= y0) & (centres[:, 1] < y1)
    shifted = boxes[inside] - np.array([x0, y0, x0, y0])
    return np.clip(shifted, 0, np.array([x1 - x0, y1 - y0] * 2))


def _spans(length: int, block_px: int) -> list[tuple[int, int]]:
    """[0, length) in near-equal pieces of at most block_px."""
    count = max(1, math.ceil(length / block_px))
    edges = np.linspace(0, length, count + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def describe(holdout: Holdout, data: LabelledSet) -> str:
    """One line for the log."""
    def count(blocks):
        return sum(b.aircraft for b in blocks)
    rasters = {os.path.basename(data.items[b.raster].path) for b in holdout.val}
    return (f"hold-out: {len(holdout.val)} block(s) with {count(holdout.val)} aircraft from {len(rasters)} raster(s) "
            f"for validation, {len(holdout.train)} block(s) with {count(holdout.train)} aircraft for training")
