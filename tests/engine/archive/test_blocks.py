"""A scene split into blocks of windows gives detect_raster's own answer, box for box and in the same order:
in this process (per-patch blob model; the window graph of a small random R2CNN, whose boxes depend on
which window a patch is in), and on a LocalCluster of two workers through run_archive."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.archive.blocks import plan_blocks
from engine.archive.split_scene import BlockSplit, InProcess
from engine.config import DetectConfig
from engine.pipeline.detect import detect_raster
from engine.pipeline.tiling import tile_grid
from engine.runtime import load_detector

COUNTED = ("patches_total", "patches_skipped_nodata", "patches_prescreened", "patches_passed_gate", "windows",
           "detections_before_merge", "detections")


def _same(split, single) -> None:
    np.testing.assert_array_equal(split.boxes_raster_px, single.boxes_raster_px)
    np.testing.assert_array_equal(split.scores, single.scores)
    np.testing.assert_array_equal(split.patch_scores, single.patch_scores)
    np.testing.assert_array_equal(split.rings_map, single.rings_map)
    for name in COUNTED:
        assert getattr(split.stats, name) == getattr(single.stats, name), name


def _crossing(boxes: np.ndarray, blocks: list[np.ndarray], origins: np.ndarray, tile: int) -> int:
    """How many merged boxes reach into the patches of more than one block (model px = raster px here)."""
    reach = []
    for ids in blocks:
        lo, hi = origins[ids].min(axis=0), origins[ids].max(axis=0) + tile
        reach.append((lo, hi))
    count = 0
    for box in boxes:
        inside = sum(bool((box[:2] < hi).all() and (box[2:] > lo).all()) for lo, hi in reach)
        count += inside > 1
    return count


def test_a_scene_split_into_blocks_gives_the_single_run_box_for_box(archive_data):
    path, config = archive_data.good[0], archive_data.config()  # 1536 px, one airport, 16-bit, local stretch
    detector = load_detector(archive_data.model)
    single = detect_raster(path, config, detector=detector)
    split = BlockSplit(config, block_patches=36, dispatch=InProcess)
    origins = tile_grid(1536, 1536, 128, 0.25)
    blocks = split.blocks(origins, _plan(config, detector), detector)
    assert len(blocks) >= 4 and sorted(np.concatenate(blocks).tolist()) == list(range(len(origins)))
    result = detect_raster(path, config, detector=detector, find_scene=split)
    _same(result, single)
    assert len(single.scores) > 10 and _crossing(single.boxes_raster_px, blocks, origins, 128) > 0
    assert single.stats.detections_before_merge > single.stats.detections  # the merge had work to do


def test_the_window_graph_split_into_blocks_of_whole_windows_gives_the_single_run(tiny_models, tmp_path):
    from engine.synthetic.scene_generator import write_scene_geotiff

    path = str(tmp_path / "scene.tif")
    write_scene_geotiff(path, 608, 608, seed=11, n_airports=1)  # 6 x 6 patches: 2 x 2 windows of 3 x 3
    config = DetectConfig(model_path=tiny_models.window_onnx, use_gate=False, window_patches=3)
    detector = load_detector(tiny_models.window_onnx)
    single = detect_raster(path, config, detector=detector)
    assert single.stats.windows > 0 and single.stats.detections > 0
    split = BlockSplit(config, block_patches=9, dispatch=InProcess)
    origins = tile_grid(608, 608, 128, 0.25)
    assert len(split.blocks(origins, _plan(config, detector), detector)) >= 4
    _same(detect_raster(path, config, detector=detector, find_scene=split), single)


def test_blocks_are_rectangles_of_whole_windows():
    origins = tile_grid(1100, 700, 128, 0.25)  # last column and row flush with the edge
    blocks = plan_blocks(origins, 3, 16, 20)
    assert len(blocks) > 4
    for ids in blocks:
        assert np.all(np.diff(ids) > 0)
        xs, ys = np.unique(origins[ids, 0]), np.unique(origins[ids, 1])
        assert len(ids) == len(xs) * len(ys)  # a full sub-grid
    assert [len(b) for b in plan_blocks(origins, 3, 16, 0)][:1] and len(plan_blocks(origins, 3, 16, 10**6)) == 1


@pytest.mark.slow
def test_run_archive_spreads_a_large_scene_over_both_workers_and_writes_the_single_run(archive_data, client, tmp_path):
    from distributed import get_task_stream

    from engine.archive import ArchiveSettings, run_archive
    from tests.engine.archive.helpers import scene_answer

    path = archive_data.good[0]
    settings = ArchiveSettings(str(tmp_path / "out"), archive_data.config(), block_patches=36)
    with get_task_stream(client) as stream:
        summary = run_archive([path], settings, client)
    (record,) = summary.records
    assert record.status == "done", record
    assert scene_answer(str(tmp_path / "out" / record.output)) == archive_data.reference[path]
    blocks = [t for t in stream.data if "-block" in str(t["key"])]
    assert len(blocks) >= 3 and len({t["worker"] for t in blocks}) == 2, [(t["key"], t["worker"]) for t in blocks]


def _plan(config, detector):
    from engine.pipeline.run_plan import RunPlan

    return RunPlan.of(dataclasses.replace(config), detector)
