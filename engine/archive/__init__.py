"""Many scenes on Dask distributed (`r2cnn detect-archive`): one task per scene running detect_raster with the
model loaded once per worker, per-scene GeoPackages, a catalogue, resume, retries; README "Many scenes"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from engine.archive.cluster import ClusterSpec, connect, dashboard_link
from engine.archive.driver import ArchiveSettings, ArchiveSummary, run_archive
from engine.archive.inputs import collect_inputs
from engine.archive.outdir import clear_temporaries
from engine.archive.records import DONE, FAILED, SKIPPED, SceneRecord

__all__ = [
    "DONE",
    "FAILED",
    "SKIPPED",
    "ArchiveSettings",
    "ArchiveSummary",
    "ClusterSpec",
    "SceneRecord",
    "collect_inputs",
    "connect",
    "dashboard_link",
    "detect_archive",
    "run_archive",
]


def detect_archive(
    inputs: Sequence[str],
    settings: ArchiveSettings,
    cluster: ClusterSpec | None = None,
    on_record: Callable[[SceneRecord], None] | None = None,
) -> ArchiveSummary:
    """The Python side of `r2cnn detect-archive`: inputs expanded, a cluster connected (local by default), run."""
    spec = cluster or ClusterSpec()
    scenes = collect_inputs(inputs)
    if settings.model_threads is None and spec.model_threads() is not None:
        settings = replace(settings, model_threads=spec.model_threads())
    try:
        with connect(spec) as client:
            return run_archive(scenes, settings, client, on_record)
    finally:
        clear_temporaries(settings.outdir)  # what workers killed mid-write left, now that they are gone
