"""CLI fixtures: a contract-complete blob model and tiny rasters on disk."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import rasterio.errors
from rasterio.transform import from_origin

from engine.config import ModelConfig
from tests.engine.blob_model import write_blob_model


@pytest.fixture(scope="session")
def blob_model_path(tmp_path_factory) -> str:
    """64 px patches, 25 % overlap, 16 px cells: finds bright blobs like a (very simple) detector."""
    path = str(tmp_path_factory.mktemp("models") / "blob.onnx")
    write_blob_model(path, patch_size=64, cell_px=16, config=ModelConfig(overlap=0.25))
    return path


@pytest.fixture
def make_raster(tmp_path):
    """make_raster(name, data=None, crs="EPSG:32650", **profile) -> path of a GeoTIFF with two blobs."""

    def make(name: str, data: np.ndarray | None = None, crs: str | None = "EPSG:32650", **profile) -> str:
        if data is None:
            data = np.random.default_rng(0).integers(80, 120, (1, 100, 150)).astype(np.uint8)
            data[0, 20:26, 20:27] = 250
            data[0, 70:76, 100:108] = 250
        meta = dict(
            driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=data.dtype
        )
        if crs is not None:
            meta.update(crs=crs, transform=from_origin(500000.0, 4000000.0, 2.0, 2.0))
        meta.update(profile)
        path = str(tmp_path / name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path, "w", **meta) as dst:
                dst.write(data)
        return path

    return make
