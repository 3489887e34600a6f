"""A scene larger than one task, as detect_raster's find_scene: the stretch and the nodata pre-screen decided
once, the tile grid cut into blocks of windows (blocks.py), every block but one submitted to the cluster this
task runs on, the last one run here with this task's model while they run, then all joined and merged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.archive.blocks import BlockResult, BlockTask, join_blocks, plan_blocks, run_block, window_ranks
from engine.archive.worker_models import borrowed_detector
from engine.config import DetectConfig
from engine.pipeline.detect import SceneFindings, detect_scene, scene_origins
from engine.pipeline.patch_stream import window_grouping
from engine.pipeline.prescreen import nodata_patches
from engine.pipeline.run_plan import RunPlan
from engine.pipeline.run_stats import RunMonitor
from engine.runtime.types import Detector

DEFAULT_BLOCK_PATCHES = 1024  # about a GF-1 scene's patch grid: tens of seconds on one core, far above a task's cost

# (the tasks to run elsewhere, their keys) -> an object with results() (in order) and cancel()
Dispatch = Callable[[Sequence[BlockTask], Sequence[str]], object]


@dataclass(frozen=True)
class BlockSplit:
    """find_scene for detect_raster: a grid of more than block_patches patches runs as blocks of windows."""

    config: DetectConfig  # model_path resolved
    block_patches: int = DEFAULT_BLOCK_PATCHES
    model_threads: int | None = None  # inference threads of each block's model
    key: str = "r2cnn-scene"  # the blocks' Dask keys start with it (the scene task's key)
    dispatch: Dispatch | None = None  # None: the Dask cluster of this worker (tests: in this process)

    def blocks(self, origins: np.ndarray, plan: RunPlan, detector: Detector) -> list[np.ndarray]:
        """The patch indices of each block (one block: the scene stays one task)."""
        return plan_blocks(origins, *window_grouping(plan.stream, detector), self.block_patches)

    def __call__(
        self,
        scene,
        detector: Detector,
        plan: RunPlan,
        monitor: RunMonitor | None = None,
        region_px: tuple[int, int, int, int] | None = None,
    ) -> SceneFindings:
        monitor = monitor or RunMonitor()
        region_px = region_px or (0, 0, scene.width_px, scene.height_px)
        origins = scene_origins(scene, plan, region_px)
        blocks = self.blocks(origins, plan, detector)
        if len(blocks) < 2:
            return detect_scene(scene, detector, plan, monitor, region_px)
        monitor.warn(scene.notes)
        with monitor.timed("stretch"):
            mapping = scene.stretch
        prescreened = nodata_patches(scene, origins, plan.tile_px) if plan.prescreen else np.zeros(len(origins), bool)
        monitor.say(f"{scene.path}: {len(origins)} patches in {len(blocks)} blocks on {detector.device}")
        tasks = [
            BlockTask(scene.path, self.config, plan, ids, origins[ids], prescreened[ids], mapping, region_px,
                      self.model_threads)
            for ids in blocks
        ]
        keys = [f"{self.key}-block{index}" for index in range(len(tasks) - 1)]
        dispatch = self.dispatch or _on_cluster
        parts = _run_all(tasks, keys, detector, dispatch)
        with monitor.timed("merge"):
            return join_blocks(parts, origins, window_ranks(origins, *window_grouping(plan.stream, detector)), plan)


def _run_all(tasks: list[BlockTask], keys: list[str], detector: Detector, dispatch: Dispatch) -> list[BlockResult]:
    """Every block but the last dispatched; the last one run here, with the model already loaded."""
    pending = dispatch(tasks[:-1], keys)
    try:
        last = run_block(tasks[-1], detector)
        return [*pending.results(), last]
    finally:
        pending.cancel()


def run_block_task(task: BlockTask) -> BlockResult:
    """A block on a worker: the worker's kept model (worker_models), the block's stream."""
    with borrowed_detector(task.config, task.model_threads) as detector:
        return run_block(task, detector)


class InProcess:
    """Dispatch without a cluster: each block in turn, here, when asked (tests; a scene task outside Dask)."""

    def __init__(self, tasks: Sequence[BlockTask], _keys: Sequence[str] = ()):
        self.tasks = list(tasks)

    def results(self) -> list[BlockResult]:
        return [run_block_task(task) for task in self.tasks]

    def cancel(self) -> None:
        self.tasks = []


class OnCluster:
    """The blocks submitted to the cluster of the worker running this scene; waiting for them secedes the
    thread, so a scene task waiting on its blocks never holds a worker thread they need."""

    def __init__(self, tasks: Sequence[BlockTask], keys: Sequence[str]):
        from distributed import get_client

        self.client = get_client()
        self.futures = [
            self.client.submit(run_block_task, task, key=key, pure=False) for task, key in zip(tasks, keys, strict=True)
        ]

    def results(self) -> list[BlockResult]:
        from distributed import rejoin, secede

        secede()
        try:
            return self.client.gather(self.futures)
        finally:
            rejoin()

    def cancel(self) -> None:
        unfinished = [future for future in self.futures if not future.done()]
        if unfinished:
            self.client.cancel(unfinished)


def _on_cluster(tasks: Sequence[BlockTask], keys: Sequence[str]):
    """OnCluster inside a Dask worker, else InProcess."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return InProcess(tasks, keys)
    return OnCluster(tasks, keys)
