"""Activity over time: how many aircraft were at each site on each date, and which arrived or departed.

Sites are the polygons of --sites (any OGR layer and CRS), else clusters of detections (centres within
cluster_m of one another, all dates pooled). A detection belongs to the site that contains its centre. On a
date seen by several scenes, an aircraft in two of them counts once (matched on the ground). Between two
consecutive dates of a site, aircraft are matched one to one on the ground (box IoU, ops.box_arrays, the
project's one matcher): unmatched ones of the later date `arrived`, of the earlier one `departed`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from osgeo import ogr

from engine.archive.ground import (
    GroundDetections,
    NoCrsError,
    Site,
    east_north_boxes,
    ecef,
    read_detections,
    read_sites,
)
from engine.archive.scene_dates import SceneDate
from engine.ops.box_arrays import greedy_match

DEFAULT_CLUSTER_M = 500.0  # aprons of one airfield: within a few hundred metres of one another
DEFAULT_MATCH_IOU = 0.3  # the same parked aircraft in two scenes: their registrations differ by metres
ARRIVED, DEPARTED = "arrived", "departed"


@dataclass(frozen=True)
class SceneInput:
    """One scene for the summary: its name, its detection layer, its date, and its footprint if known."""

    name: str
    detections: str  # an OGR source (r2cnn's per-scene GeoPackage, or any layer with polygons)
    date: SceneDate
    footprint_wkt: str | None = None  # lon / lat; a covered site without aircraft then counts 0
    layer: str | None = None


@dataclass(frozen=True)
class ActivitySettings:
    sites: str | None = None  # OGR polygon layer; None: clusters of detections
    name_field: str | None = None  # the sites' name field (default: name / site, else the feature id)
    cluster_m: float = DEFAULT_CLUSTER_M
    match_iou: float = DEFAULT_MATCH_IOU
    min_score: float = 0.0  # detections scoring below are left out


@dataclass(frozen=True)
class CountRow:
    site: str
    date: date
    aircraft: int
    by_size: dict[str, int] = field(default_factory=dict)
    scenes: int = 1


@dataclass(frozen=True)
class Change:
    site: str
    change: str  # ARRIVED / DEPARTED
    from_date: date
    to_date: date
    score: float
    ring: np.ndarray  # (N, 2) lon / lat: where the aircraft stood (on to_date when arrived, from_date departed)


@dataclass(frozen=True)
class Activity:
    sites: tuple[Site, ...]
    rows: tuple[CountRow, ...]  # by site, then date
    changes: tuple[Change, ...]
    undated: tuple[tuple[str, str], ...]  # (scene, why)
    size_classes: tuple[str, ...]  # () when no detection carries one
    outside: int  # dated detections inside no site
    unplaced: tuple[tuple[str, str], ...] = ()  # dated, but its detections have no place on the ground (no CRS)


@dataclass
class _Present:
    """What one site holds on one date, gathered over the scenes of that date."""

    rings: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    scenes: int = 0


def summarise(scenes: list[SceneInput], settings: ActivitySettings | None = None) -> Activity:
    """Counts per site and date, changes between a site's consecutive dates; undated scenes listed apart."""
    settings = settings or ActivitySettings()
    undated = tuple((s.name, s.date.source) for s in scenes if s.date.date is None)
    dated, unplaced = [], []
    for scene in (s for s in scenes if s.date.date):
        try:
            dated.append((scene, read_detections(scene.detections, scene.layer, settings.min_score)))
        except NoCrsError as exc:
            unplaced.append((scene.name, str(exc)))
    if settings.sites:
        sites = read_sites(settings.sites, settings.name_field)
        labels = [_containing(sites, found.centres) for _s, found in dated]
    else:
        sites, labels = _cluster_sites([found for _s, found in dated], settings.cluster_m)
    origins = [_centre(site) for site in sites]
    present: dict[tuple[int, date], _Present] = defaultdict(_Present)
    for (scene, found), label in zip(dated, labels, strict=True):
        for index in _covered(sites, scene.footprint_wkt, label):
            where = np.flatnonzero(label == index)
            _add(present[(index, scene.date.date)], found, where, origins[index], settings.match_iou)
    classes = tuple(sorted({s for _sc, f in dated if f.size_classes for s in f.size_classes if s}))
    rows, changes = _rows_and_changes(sites, present, classes, settings.match_iou)
    outside = sum(int((label < 0).sum()) for label in labels)
    return Activity(tuple(sites), rows, changes, undated, classes, outside, tuple(unplaced))


def _add(held: _Present, found: GroundDetections, where: np.ndarray, origin, iou: float) -> None:
    """One scene's detections at a site on a date; those matching an aircraft another scene of that date
    already showed there are the same aircraft."""
    held.scenes += 1
    rings = tuple(found.rings[i] for i in where)
    boxes = east_north_boxes(rings, origin)
    new = ~greedy_match(boxes, found.scores[where], held.boxes, iou).is_tp
    held.rings += [rings[i] for i in np.flatnonzero(new)]
    held.scores += found.scores[where][new].tolist()
    held.sizes += [found.size_classes[i] if found.size_classes else "" for i in where[new]]
    held.boxes = np.concatenate([held.boxes, boxes[new]])


def _rows_and_changes(sites, present, classes, iou) -> tuple[tuple[CountRow, ...], tuple[Change, ...]]:
    rows, changes = [], []
    order = sorted(range(len(sites)), key=lambda i: sites[i].name)
    for index in order:
        dates = sorted(d for (i, d) in present if i == index)
        for day in dates:
            held = present[(index, day)]
            sizes = {c: held.sizes.count(c) for c in classes}
            rows.append(CountRow(sites[index].name, day, len(held.scores), sizes, held.scenes))
        for before, after in zip(dates, dates[1:], strict=False):
            old, new = present[(index, before)], present[(index, after)]
            match = greedy_match(new.boxes, new.scores, old.boxes, iou)
            name = sites[index].name
            for i in np.flatnonzero(~match.is_tp):
                changes.append(Change(name, ARRIVED, before, after, new.scores[i], new.rings[i]))
            for i in np.flatnonzero(~match.truth_found):
                changes.append(Change(name, DEPARTED, before, after, old.scores[i], old.rings[i]))
    return tuple(rows), tuple(changes)


def _covered(sites: list[Site], footprint_wkt: str | None, label: np.ndarray) -> list[int]:
    """The sites a scene saw: those its footprint meets (when known), and every site with a detection of it."""
    seen = set(np.unique(label[label >= 0]).tolist())
    if footprint_wkt:
        footprint = ogr.CreateGeometryFromWkt(footprint_wkt)
        seen |= {i for i, site in enumerate(sites) if footprint.Intersects(ogr.CreateGeometryFromWkt(site.polygon_wkt))}
    return sorted(seen)


def _containing(sites: list[Site], centres: np.ndarray) -> np.ndarray:
    """(D,) the first site whose polygon contains each centre, -1 for none."""
    label = np.full(len(centres), -1, dtype=np.int64)
    for index, site in enumerate(sites):
        polygon = ogr.CreateGeometryFromWkt(site.polygon_wkt)
        x0, x1, y0, y1 = polygon.GetEnvelope()
        near = np.flatnonzero((label < 0) & (centres[:, 0] >= x0) & (centres[:, 0] <= x1)
                              & (centres[:, 1] >= y0) & (centres[:, 1] <= y1))
        for i in near:
            point = ogr.Geometry(ogr.wkbPoint)
            point.AddPoint_2D(float(centres[i, 0]), float(centres[i, 1]))
            if polygon.Contains(point):
                label[i] = index
    return label


def _cluster_sites(found: list[GroundDetections], cluster_m: float) -> tuple[list[Site], list[np.ndarray]]:
    """Sites as clusters of detection centres (single linkage at cluster_m on the ground), largest first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    centres = np.concatenate([f.centres for f in found]) if found else np.zeros((0, 2))
    rings = [ring for f in found for ring in f.rings]
    if not len(centres):
        return [], [np.zeros(len(f), dtype=np.int64) for f in found]
    pairs = cKDTree(ecef(centres)).query_pairs(cluster_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(centres),) * 2)
    _count, label = connected_components(graph, directed=False)
    clusters = sorted(np.unique(label), key=lambda c: (-(label == c).sum(), *centres[label == c].mean(axis=0)))
    renumber = {int(c): rank for rank, c in enumerate(clusters)}
    label = np.array([renumber[int(c)] for c in label], dtype=np.int64)
    sites = []
    for rank in range(len(clusters)):
        points = ogr.Geometry(ogr.wkbMultiPoint)
        for i in np.flatnonzero(label == rank):
            for x, y in rings[i]:
                point = ogr.Geometry(ogr.wkbPoint)
                point.AddPoint_2D(float(x), float(y))
                points.AddGeometry(point)
        sites.append(Site(f"site-{rank + 1}", points.ConvexHull().ExportToWkt()))
    bounds = np.cumsum([0, *[len(f) for f in found]])
    return sites, [label[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _centre(site: Site) -> np.ndarray:
    """The site's centroid (lon, lat): the origin of its east / north plane."""
    centroid = ogr.CreateGeometryFromWkt(site.polygon_wkt).Centroid()
    return np.array([centroid.GetX(), centroid.GetY()])
