"""Detections and sites on the ground: any OGR layer in any CRS read into lon / lat (EPSG:4326) polygons, and
a metric frame for comparing them (Earth-centred XYZ for distances, a local east / north plane per site for
boxes), so scenes from several UTM zones or sensors line up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from osgeo import ogr, osr

from engine.errors import R2cnnError
from engine.outputs.fields import SCORE

LONLAT_EPSG, ECEF_EPSG = 4326, 4978
SIZE_FIELD = "size_class"  # detections that carry it are also counted per class
NAME_FIELDS = ("name", "Name", "NAME", "site", "SITE")


class LayerError(R2cnnError):
    """A detection or site layer that cannot be read, or lacks what is asked of it."""


class NoCrsError(LayerError):
    """A layer without a CRS (a scene processed in pixel space): it has no place on the ground."""


@dataclass(frozen=True)
class GroundDetections:
    """One scene's detections: lon / lat rings (D, ) of (N, 2) arrays, centres, scores, size classes."""

    rings: tuple[np.ndarray, ...]
    centres: np.ndarray  # (D, 2) lon, lat
    scores: np.ndarray  # (D,)
    size_classes: tuple[str, ...] | None  # None: the layer has no SIZE_FIELD

    def __len__(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class Site:
    name: str
    polygon_wkt: str  # EPSG:4326, lon / lat


def lonlat_srs() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(LONLAT_EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def read_detections(source: str, layer_name: str | None = None, min_score: float = 0.0) -> GroundDetections:
    """A detection layer (r2cnn's, or any polygon layer; without a score field every detection scores 1) in
    lon / lat."""
    with _opened(source) as dataset:
        layer = _layer(dataset, source, layer_name)
        to_lonlat = _to_lonlat(layer, source)
        fields = _field_names(layer)
        rings, scores, sizes = [], [], []
        for feature in layer:
            geometry = feature.GetGeometryRef()
            score = float(feature.GetField(SCORE)) if SCORE in fields and feature.IsFieldSet(SCORE) else 1.0
            if geometry is None or geometry.IsEmpty() or score < min_score:
                continue
            geometry = geometry.Clone()
            if to_lonlat is not None:
                geometry.Transform(to_lonlat)
            rings.append(_outer_ring(geometry))
            scores.append(score)
            sizes.append(str(feature.GetField(SIZE_FIELD) or "") if SIZE_FIELD in fields else "")
    centres = np.array([ring[:-1].mean(axis=0) if len(ring) > 1 else ring[0] for ring in rings]).reshape(-1, 2)
    return GroundDetections(tuple(rings), centres, np.asarray(scores, float), tuple(sizes) if SIZE_FIELD in fields
                            else None)


def read_sites(source: str, name_field: str | None = None) -> list[Site]:
    """The polygons of a site layer (any OGR source and CRS) in lon / lat, each with its name."""
    with _opened(source) as dataset:
        layer = _layer(dataset, source, None)
        if ogr.GT_Flatten(layer.GetGeomType()) not in (ogr.wkbPolygon, ogr.wkbMultiPolygon, ogr.wkbUnknown):
            raise LayerError(f"{source}: the sites must be polygons, not {ogr.GeometryTypeToName(layer.GetGeomType())}")
        fields = _field_names(layer)
        field = name_field or next((f for f in NAME_FIELDS if f in fields), None)
        if field is not None and field not in fields:
            raise LayerError(f"{source} has no field {field!r}; its fields: {', '.join(sorted(fields)) or 'none'}")
        to_lonlat = _to_lonlat(layer, source)
        sites = []
        for feature in layer:
            geometry = feature.GetGeometryRef()
            if geometry is None or geometry.IsEmpty():
                continue
            geometry = geometry.Clone()
            if to_lonlat is not None:
                geometry.Transform(to_lonlat)
            name = str(feature.GetField(field)) if field and feature.IsFieldSet(field) else f"site-{feature.GetFID()}"
            sites.append(Site(name, geometry.ExportToWkt()))
    if not sites:
        raise LayerError(f"{source} holds no site polygon")
    return sites


def ecef(lonlat: np.ndarray) -> np.ndarray:
    """(N, 3) Earth-centred metres of (N, 2) lon / lat points on the ellipsoid: straight-line distances."""
    points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if not len(points):
        return np.zeros((0, 3))
    target = osr.SpatialReference()
    target.ImportFromEPSG(ECEF_EPSG)
    transform = osr.CoordinateTransformation(lonlat_srs(), target)
    return np.asarray(transform.TransformPoints([(float(x), float(y), 0.0) for x, y in points]))[:, :3]


def east_north_boxes(rings: tuple[np.ndarray, ...], origin_lonlat: np.ndarray) -> np.ndarray:
    """(D, 4) boxes (x0, y0, x1, y1) in metres east / north of origin: detections compared on the ground."""
    if not rings:
        return np.zeros((0, 4))
    lon0, lat0 = np.radians(np.asarray(origin_lonlat, dtype=float))
    east = np.array([-np.sin(lon0), np.cos(lon0), 0.0])
    north = np.array([-np.sin(lat0) * np.cos(lon0), -np.sin(lat0) * np.sin(lon0), np.cos(lat0)])
    centre = ecef(np.asarray(origin_lonlat)[None])[0]
    boxes = []
    for ring in rings:
        xyz = ecef(ring) - centre
        e, n = xyz @ east, xyz @ north
        boxes.append((e.min(), n.min(), e.max(), n.max()))
    return np.asarray(boxes, dtype=float)


def _outer_ring(geometry: ogr.Geometry) -> np.ndarray:
    """(N, 2) outer ring of a polygon (the largest part of a multipolygon; a point or line as it is)."""
    flat = ogr.GT_Flatten(geometry.GetGeometryType())
    if flat == ogr.wkbMultiPolygon:
        geometry = max((geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())), key=lambda g: g.Area())
        flat = ogr.wkbPolygon
    part = geometry.GetGeometryRef(0) if flat == ogr.wkbPolygon else geometry
    return np.asarray(part.GetPoints(), dtype=float)[:, :2]


def _to_lonlat(layer, source: str) -> osr.CoordinateTransformation | None:
    """The layer's CRS to lon / lat; a layer without a CRS cannot be put on the ground."""
    srs = layer.GetSpatialRef()
    if srs is None or srs.IsLocal() or (srs.GetName() or "").startswith("Undefined"):  # GeoPackage's srs_id 0 / -1
        raise NoCrsError(f"{source} has no CRS: its detections cannot be placed on the ground")
    srs = srs.Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    target = lonlat_srs()
    return None if srs.IsSame(target) else osr.CoordinateTransformation(srs, target)


def _layer(dataset, source: str, name: str | None):
    layer = dataset.GetLayerByName(name) if name else dataset.GetLayer(0)
    if layer is None:
        names = [dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())]
        raise LayerError(f"{source} has no layer {name or 0!r}; its layers: {', '.join(names) or 'none'}")
    return layer


def _field_names(layer) -> set[str]:
    definition = layer.GetLayerDefn()
    return {definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())}


@contextmanager
def _opened(source: str) -> Iterator:
    """The OGR dataset, or one LayerError naming it."""
    dataset = ogr.Open(source)
    if dataset is None:
        raise LayerError(f"cannot open {source} as a vector layer (OGR)")
    try:
        yield dataset
    finally:
        dataset = None
