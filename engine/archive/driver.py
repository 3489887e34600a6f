"""run_archive: plan (what an earlier run already did), one Dask task per remaining scene, records as scenes
finish, the catalogue rewritten every few seconds and at the end, Ctrl-C leaving only finished scenes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from engine.archive.catalogue import CATALOGUE_NAME, read_catalogue, write_catalogue
from engine.archive.outdir import clear_temporaries, held_outdir
from engine.archive.records import (
    DONE,
    FAILED,
    SKIPPED,
    SceneRecord,
    file_hash,
    input_stamp,
    model_settings,
    scene_output_name,
    settings_hash,
)
from engine.archive.split_scene import DEFAULT_BLOCK_PATCHES
from engine.archive.task import SceneTask, run_scene
from engine.config import DetectConfig
from engine.errors import R2cnnError


@dataclass(frozen=True)
class ArchiveSettings:
    """One archive run: the detection settings of `r2cnn detect`, plus how hard to try and what to write."""

    outdir: str
    config: DetectConfig = field(default_factory=DetectConfig)
    tries: int = 2  # a scene that raises is run this many times before it is recorded as failed
    all_detections: bool = False  # also every detection in the catalogue's 'aircraft' layer (EPSG:4326)
    model_threads: int | None = None  # inference threads per scene; None: the worker's cores / its threads
    flush_seconds: float = 2.0  # the catalogue is rewritten at most this often while scenes finish
    scene_timeout_s: float | None = None  # a scene running longer is stopped and recorded failed (None: never)
    block_patches: int = DEFAULT_BLOCK_PATCHES  # a scene of more patches runs as blocks of windows; 0: never

    def __post_init__(self) -> None:
        if self.tries < 1:
            raise ValueError(f"tries must be >= 1, got {self.tries}")
        if self.block_patches < 0:
            raise ValueError(f"block_patches must be >= 0, got {self.block_patches}")
        if self.model_threads is not None and self.model_threads < 1:
            raise ValueError(f"model_threads must be >= 1 or None, got {self.model_threads}")
        if self.scene_timeout_s is not None and not 0 < self.scene_timeout_s < float("inf"):
            raise ValueError(f"scene_timeout_s must be a finite number > 0 or None, got {self.scene_timeout_s}")


@dataclass(frozen=True)
class ArchiveSummary:
    """What a run did: every scene's record, in input order, and the counts the CLI prints."""

    records: tuple[SceneRecord, ...]
    catalogue: str
    kept: int  # done in an earlier run with the same input, model and settings: not redone
    seconds: float

    def count(self, status: str) -> int:
        return sum(record.status == status for record in self.records)

    @property
    def detections(self) -> int:
        return sum(record.detections for record in self.records if record.status == DONE)


def run_archive(
    inputs: Sequence[str],
    settings: ArchiveSettings,
    client,
    on_record: Callable[[SceneRecord], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> ArchiveSummary:
    """Run every scene not already done on `client` (a distributed.Client); see the module docstring.

    on_start(to_run, kept) is called once planned, on_record(record) as each scene finishes or fails.
    """
    start = time.perf_counter()
    config = _resolved(settings.config)
    model_hash = file_hash(config.model_path)
    options_hash = settings_hash(config, model_settings(config))
    catalogue = os.path.join(settings.outdir, CATALOGUE_NAME)
    with held_outdir(settings.outdir):
        previous = read_catalogue(catalogue)
        records: dict[str, SceneRecord] = {}
        tasks: list[SceneTask] = []
        for path in inputs:
            record, task = _plan(path, previous.get(path), settings, config, model_hash, options_hash)
            records[path] = record
            if task is not None:
                tasks.append(task)
        kept = sum(r.status == DONE for r in records.values())
        # rows of earlier runs' scenes that are not among these inputs stay: one folder after another, nothing lost
        others = [record for path, record in previous.items() if path not in records]
        write_catalogue(catalogue, [*records.values(), *others])
        if on_start is not None:
            on_start(len(tasks), kept)
        try:
            _run(tasks, records, others, settings, client, catalogue, on_record)
        finally:
            clear_temporaries(settings.outdir)
            files = _detection_files([*records.values(), *others], settings) if settings.all_detections else ()
            write_catalogue(catalogue, [*records.values(), *others], files)
    return ArchiveSummary(tuple(records.values()), catalogue, kept, time.perf_counter() - start)


def _resolved(config: DetectConfig) -> DetectConfig:
    """The model file that will run, named explicitly, so that its hash is the model's and workers agree."""
    if config.model_path is not None:
        return replace(config, model_path=os.path.abspath(config.model_path))
    from engine.runtime import bundled_model_for

    return replace(config, model_path=str(bundled_model_for(config.precision, config.device)))


def _plan(path, earlier, settings, config, model_hash, options_hash) -> tuple[SceneRecord, SceneTask | None]:
    """The scene's starting record, and its task unless an earlier run did it with this input, model, settings."""
    try:
        stamp = input_stamp(path)
    except R2cnnError as exc:
        return SceneRecord(path, FAILED, error=str(exc), model_hash=model_hash, settings_hash=options_hash), None
    if earlier is not None and earlier.matches(stamp, model_hash, options_hash):
        if os.path.isfile(os.path.join(settings.outdir, earlier.output)):
            return earlier, None
    output = scene_output_name(path)
    record = SceneRecord(
        path, SKIPPED, error="not run yet", model_hash=model_hash, settings_hash=options_hash,
        input_size=stamp.size, input_mtime_ns=stamp.mtime_ns, output=output,
    )
    task = SceneTask(path, os.path.abspath(settings.outdir), output, config, stamp, model_hash, options_hash,
                     settings.model_threads, settings.scene_timeout_s, settings.block_patches)
    return record, task


def _run(tasks, records, others, settings, client, catalogue, on_record) -> None:
    """Submit every task, collect as they finish; on any exit, what did not finish is cancelled and 'skipped'."""
    from distributed import as_completed

    run_id = uuid.uuid4().hex[:8]
    futures = {
        client.submit(run_scene, task, key=f"r2cnn-scene-{run_id}-{index}", retries=settings.tries - 1, pure=False):
        task for index, task in enumerate(tasks)
    }
    last_flush = time.monotonic()
    try:
        for future in as_completed(futures):
            task = futures[future]
            record = _outcome(future, task, records[task.path], settings.tries)
            records[task.path] = record
            if on_record is not None:
                on_record(record)
            if time.monotonic() - last_flush >= settings.flush_seconds:
                write_catalogue(catalogue, [*records.values(), *others])
                last_flush = time.monotonic()
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished, force=True)
            for future in unfinished:
                path = futures[future].path
                records[path] = replace(records[path], error="interrupted before it finished; the next run does it")


def _outcome(future, task: SceneTask, pending: SceneRecord, tries: int) -> SceneRecord:
    """The finished future as a record: done, or failed with one line saying why."""
    from distributed import KilledWorker

    if future.status == "finished":
        return future.result()
    if future.cancelled():
        return replace(pending, error="cancelled")
    exc = future.exception()
    if isinstance(exc, KilledWorker):
        message = "the worker died each time it ran this scene (out of memory?)"
    else:
        message = f"{str(exc).strip() or type(exc).__name__} (after {tries} tr{'y' if tries == 1 else 'ies'})"
    return replace(pending, status=FAILED, error=message.splitlines()[0])


def _detection_files(records, settings: ArchiveSettings) -> list[str]:
    """Per-scene GeoPackages of the done, georeferenced scenes (the others have no place in EPSG:4326)."""
    return [
        os.path.join(settings.outdir, r.output) for r in records if r.status == DONE and r.footprint_wkt and r.output
    ]
