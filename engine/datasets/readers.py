"""One reader interface for labelled data in the forms users have: (raster, vector) pairs (any GDAL raster,
any OGR vector), a COCO JSON with its images, and the Airbus CSV + JPEG form; each ends in a LabelledSet."""

from __future__ import annotations

from engine.datasets.airbus import DatasetError, airbus_rasters
from engine.datasets.coco_labels import read_coco
from engine.datasets.labelled import LabelledSet, LabelSource
from engine.datasets.vector_labels import read_pairs


def read_labelled(source: LabelSource) -> LabelledSet:
    """The one entry point: dispatch on the source's form (DatasetError on bad input, in one line)."""
    forms = [bool(source.pairs), source.coco is not None, source.airbus is not None]
    if sum(forms) != 1:
        raise DatasetError("give one labelled data source: raster=vector pairs, a COCO JSON or an Airbus folder")
    if source.class_values and source.pairs and not source.class_field:
        raise DatasetError("a class value filter needs the class field of the reference layer")
    if source.pairs:
        return read_pairs(source.pairs, source.class_field, source.class_values, source.gsd_m)
    if source.coco is not None:
        return read_coco(source.coco, source.coco_images, source.class_values, source.gsd_m)
    return airbus_rasters(source.airbus, source.airbus_split)
