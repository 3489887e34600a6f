"""Pipeline fixtures: tiny GeoTIFF writer and a fake Detector that boxes bright blobs (no network)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import rasterio
import rasterio.errors
from rasterio.transform import from_origin
from scipy import ndimage

from engine.config import ModelConfig
from engine.runtime.types import BatchResult, PatchDetections

UTM_50N = "EPSG:32650"


def write_tif(path, data: np.ndarray, crs=UTM_50N, transform=None, **profile) -> str:
    """Write (bands, H, W) data as a GeoTIFF (north-up 2 m UTM unless told otherwise)."""
    data = data if data.ndim == 3 else data[None]
    if transform is None and crs is not None:
        transform = from_origin(500000.0, 4000000.0, 2.0, 2.0)
    meta = dict(
        driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=data.dtype
    )
    if crs is not None:
        meta.update(crs=crs, transform=transform)
    meta.update(profile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **meta) as dst:
            dst.write(data)
    return str(path)


class FakeBlobDetector:
    """The Detector interface over numpy: one box per connected bright blob; records what it was given."""

    def __init__(self, patch_size: int = 64, overlap: float = 0.25, bright: float = 200.0, **config):
        self.config = dataclasses.replace(ModelConfig(), patch_size=patch_size, overlap=overlap, **config)
        self.device = "cpu"
        self.bright = bright
        self.batches: list[int] = []
        self.gate_thresholds: list[float] = []

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        self.batches.append(len(images_u8))
        self.gate_thresholds.append(gate_threshold)
        grey = images_u8.astype(np.float32).mean(axis=1)
        gate_scores = 1.0 / (1.0 + np.exp(-(grey.max(axis=(1, 2)) - 180.0) / 10.0))
        detections = []
        for patch, gate in zip(grey, gate_scores, strict=True):
            boxes, scores = np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
            if gate >= gate_threshold:
                labels, _ = ndimage.label(patch > self.bright)
                slices = ndimage.find_objects(labels)
                boxes = np.array([[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in slices], np.float32)
                boxes = boxes.reshape(-1, 4)
                scores = np.full(len(boxes), 0.9, np.float32)
            detections.append(PatchDetections(boxes_patch_px=boxes, scores=scores))
        return BatchResult(gate_scores=gate_scores.astype(np.float32), detections=detections)


class FakeWindowDetector(FakeBlobDetector):
    """run_windows by cutting the window into its patches: the window path's plumbing without a network."""

    offset_align_px = 16

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.windows: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def run_windows(self, windows_u8, row_offsets_px, col_offsets_px, gate_threshold) -> BatchResult:
        size = self.config.patch_size
        self.windows.append((tuple(row_offsets_px), tuple(col_offsets_px)))
        grid = [(r, c) for r in row_offsets_px for c in col_offsets_px]
        patches = [window[:, r : r + size, c : c + size] for window in windows_u8 for r, c in grid]
        return self(np.stack(patches), gate_threshold)


@pytest.fixture
def fake_detector() -> FakeBlobDetector:
    return FakeBlobDetector()


@pytest.fixture
def tif():
    """write_tif(path, data, crs=..., transform=..., **profile) -> path."""
    return write_tif
