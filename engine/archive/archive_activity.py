"""The activity summary of an archive run's output folder, from its catalogue: every done scene's GeoPackage,
its date (scene_dates, from the raster when it is still there, else its name) and its footprint."""

from __future__ import annotations

import os

from engine.archive.activity import Activity, ActivitySettings, SceneInput, summarise
from engine.archive.activity_outputs import write_activity
from engine.archive.catalogue import CATALOGUE_NAME, read_catalogue
from engine.archive.records import DONE
from engine.archive.scene_dates import compile_pattern, scene_date
from engine.errors import OutputError
from engine.outputs.fields import DETECTION_LAYER


def catalogue_scenes(outdir: str, date_pattern: str | None = None) -> list[SceneInput]:
    """The done scenes of OUTDIR/catalogue.gpkg as summary inputs, in catalogue order."""
    catalogue = os.path.join(outdir, CATALOGUE_NAME)
    if not os.path.isfile(catalogue):
        raise OutputError(f"{outdir} holds no {CATALOGUE_NAME}: run r2cnn detect-archive -o {outdir} first")
    pattern = compile_pattern(date_pattern)
    scenes = []
    for path, record in read_catalogue(catalogue).items():
        target = os.path.join(outdir, record.output)
        if record.status == DONE and record.output and os.path.isfile(target):
            scenes.append(SceneInput(path, target, scene_date(path, pattern), record.footprint_wkt, DETECTION_LAYER))
    return scenes


def archive_activity(
    outdir: str, settings: ActivitySettings | None = None, date_pattern: str | None = None,
    scenes: list[SceneInput] | None = None,
) -> tuple[Activity, dict[str, str]]:
    """Summarise OUTDIR's done scenes (catalogue_scenes, unless given) and write activity.csv / .gpkg / .png."""
    settings = settings or ActivitySettings()
    activity = summarise(catalogue_scenes(outdir, date_pattern) if scenes is None else scenes, settings)
    protect = [settings.sites] if settings.sites else []
    return activity, write_activity(activity, outdir, protect)
