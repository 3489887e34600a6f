"""Reading what an archive run wrote: a per-scene GeoPackage's detections, the catalogue, temporaries."""

from __future__ import annotations

import os

import numpy as np
from osgeo import ogr


def answer(rings, scores) -> tuple[list, list]:
    """Order-free, float-noise-free form of a set of detections."""
    rings = np.round(np.asarray(rings, dtype=float), 3).reshape(len(scores), -1)
    return sorted(rings.tolist()), sorted(np.round(np.asarray(scores, dtype=float), 5).tolist())


def scene_answer(gpkg: str) -> tuple[list, list]:
    """The detections of one per-scene GeoPackage in conftest.answer's form."""
    dataset = ogr.Open(gpkg)
    layer = dataset.GetLayerByName("aircraft")
    rings, scores = [], []
    for feature in layer:
        rings.append(feature.GetGeometryRef().GetGeometryRef(0).GetPoints())
        scores.append(feature.GetField("score"))
    dataset = None
    return answer(rings, scores)


def temporaries(outdir) -> list[str]:
    """Names an unpublished (staged) output would have, anywhere in the output folder."""
    return [name for _root, _dirs, files in os.walk(outdir) for name in files if ".r2cnn." in name]
