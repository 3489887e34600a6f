"""Archive fixtures: six small generated scenes (one corrupt), a contract-complete blob model, each scene's
detect_raster answer alone, and a LocalCluster of two worker processes shared by the module's tests."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import DetectConfig, ModelConfig
from tests.engine.archive.helpers import answer
from tests.engine.blob_model import write_blob_model

# (name, side px, airports, seed): the 1536 px scene first, so that it is running when a test kills a worker.
SCENES = (("big", 1536, 1, 3), ("a", 1024, 1, 1), ("b", 1024, 0, 2), ("c", 1024, 1, 4), ("d", 1024, 0, 5))
CORRUPT = "corrupt"


@dataclass(frozen=True)
class ArchiveData:
    folder: Path  # the scenes, the corrupt one included
    good: tuple[str, ...]  # absolute paths of the readable scenes, in input order
    corrupt: str
    model: str
    reference: dict  # path -> (sorted rounded box rings, sorted scores) from detect_raster alone

    def config(self, **changes) -> DetectConfig:
        return DetectConfig(model_path=self.model, **changes)


@pytest.fixture(scope="session")
def archive_data(tmp_path_factory) -> ArchiveData:
    from engine.pipeline.detect import detect_raster
    from engine.runtime import load_detector
    from engine.synthetic.scene_generator import write_scene_geotiff

    root = tmp_path_factory.mktemp("archive")
    folder = root / "scenes"
    folder.mkdir()
    model = str(root / "blob128.onnx")
    write_blob_model(model, patch_size=128, cell_px=16, config=ModelConfig(overlap=0.25))
    good = []
    for name, side, airports, seed in SCENES:
        path = folder / f"{name}.tif"
        write_scene_geotiff(path, side, side, seed=seed, n_airports=airports)
        os.unlink(f"{path}.boxes.csv")  # true boxes: not an input
        good.append(str(path))
    corrupt = folder / f"{CORRUPT}.tif"  # a readable header, tiles cut off: fails while the patches are read
    shutil.copy(good[0], corrupt)
    os.truncate(corrupt, os.path.getsize(corrupt) // 2)
    config = DetectConfig(model_path=model)
    detector = load_detector(model)  # loaded once, as `r2cnn detect a.tif b.tif ...` does
    reference = {}
    for path in good:
        result = detect_raster(path, config, detector=detector)
        reference[path] = answer(result.rings_map, result.scores)
    return ArchiveData(folder, tuple(good), str(corrupt), model, reference)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes, as `r2cnn detect-archive --workers 2` starts."""
    distributed = pytest.importorskip("distributed")
    from engine.archive.worker_plugins import QuietSceneFailures

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(QuietSceneFailures())
        yield client
