"""The activity summary's files in an output folder, staged and published together (or none of them):
activity.csv (site, date, aircraft, per size class), activity.gpkg (layers sites, site_counts, changes; lon /
lat) and activity.png (aircraft over time, one line per site)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

from osgeo import gdal, ogr

from engine.archive.activity import Activity
from engine.archive.ground import lonlat_srs
from engine.atomic_output import StagedOutput, publish_all
from engine.errors import OutputError

CSV_NAME, GPKG_NAME, PNG_NAME = "activity.csv", "activity.gpkg", "activity.png"
LEGEND_SITES = 12  # more sites than this: the legend names the busiest ones


def activity_paths(outdir: str) -> dict[str, str]:
    return {key: os.path.join(outdir, name) for key, name in (("csv", CSV_NAME), ("gpkg", GPKG_NAME),
                                                                ("png", PNG_NAME))}


def write_activity(activity: Activity, outdir: str, protect: Sequence[str] = ()) -> dict[str, str]:
    """The three files in outdir (replaced if there); a failure leaves the earlier ones as they were."""
    paths = activity_paths(outdir)
    staged: list[StagedOutput] = []
    try:
        for key, writer in (("csv", _write_csv), ("gpkg", _write_gpkg), ("png", _write_png)):
            item = StagedOutput(paths[key], os.path.splitext(paths[key])[1], True, protect)
            staged.append(item)
            try:
                writer(activity, item.tmp)
            except OSError as exc:
                raise OutputError(f"cannot write {paths[key]}: {exc.strerror or exc}") from exc
        publish_all(staged)
    finally:
        for item in staged:
            item.discard()
    return paths


def csv_header(activity: Activity) -> list[str]:
    return ["site", "date", "aircraft", *[f"aircraft_{c}" for c in activity.size_classes]]


def _write_csv(activity: Activity, path: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(activity))
    for row in activity.rows:
        sizes = [row.by_size[c] for c in activity.size_classes]
        writer.writerow([row.site, row.date.isoformat(), row.aircraft, *sizes])
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())


def _write_gpkg(activity: Activity, path: str) -> None:
    """Three layers in EPSG:4326: sites (one per site, its counts), site_counts (per date), changes."""
    previous = ogr.GetUseExceptions()
    ogr.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        size_fields = [(f"aircraft_{c}", ogr.OFTInteger) for c in activity.size_classes]
        sites = _layer(dataset, "sites", [("name", ogr.OFTString), ("dates", ogr.OFTInteger),
                                          ("first_date", ogr.OFTDate), ("last_date", ogr.OFTDate),
                                          ("last_aircraft", ogr.OFTInteger), ("max_aircraft", ogr.OFTInteger),
                                          ("mean_aircraft", ogr.OFTReal)])
        counts = _layer(dataset, "site_counts", [("site", ogr.OFTString), ("date", ogr.OFTDate),
                                                 ("aircraft", ogr.OFTInteger), ("scenes", ogr.OFTInteger),
                                                 *size_fields])
        changes = _layer(dataset, "changes", [("site", ogr.OFTString), ("change", ogr.OFTString),
                                              ("from_date", ogr.OFTDate), ("to_date", ogr.OFTDate),
                                              ("score", ogr.OFTReal)])
        polygons = {site.name: site.polygon_wkt for site in activity.sites}
        dataset.StartTransaction()
        for site in activity.sites:
            rows = [r for r in activity.rows if r.site == site.name]
            aircraft = [r.aircraft for r in rows]
            _add(sites, site.polygon_wkt, name=site.name, dates=len(rows),
                 first_date=rows[0].date.isoformat() if rows else None,
                 last_date=rows[-1].date.isoformat() if rows else None,
                 last_aircraft=aircraft[-1] if rows else 0, max_aircraft=max(aircraft, default=0),
                 mean_aircraft=sum(aircraft) / len(aircraft) if rows else 0.0)
        for row in activity.rows:
            sizes = {f"aircraft_{c}": row.by_size[c] for c in activity.size_classes}
            _add(counts, polygons[row.site], site=row.site, date=row.date.isoformat(), aircraft=row.aircraft,
                 scenes=row.scenes, **sizes)
        for change in activity.changes:
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in change.ring:
                ring.AddPoint_2D(float(x), float(y))
            polygon = ogr.Geometry(ogr.wkbPolygon)
            polygon.AddGeometry(ring)
            _add(changes, polygon.ExportToWkt(), site=change.site, change=change.change,
                 from_date=change.from_date.isoformat(), to_date=change.to_date.isoformat(), score=change.score)
        dataset.CommitTransaction()
        dataset = sites = counts = changes = None
    except RuntimeError as exc:
        raise OutputError(f"cannot write {path}: {str(exc).strip() or 'OGR gave no reason'}") from exc
    finally:
        gdal.PopErrorHandler()
        if not previous:
            ogr.DontUseExceptions()


def _layer(dataset, name: str, fields: list[tuple[str, int]]):
    layer = dataset.CreateLayer(name, srs=lonlat_srs(), geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=YES"])
    for field_name, kind in fields:
        layer.CreateField(ogr.FieldDefn(field_name, kind))
    return layer


def _add(layer, wkt: str, **values) -> None:
    feature = ogr.Feature(layer.GetLayerDefn())
    for key, value in values.items():
        if value is not None:
            feature.SetField(key, value)
    geometry = ogr.CreateGeometryFromWkt(wkt)
    if ogr.GT_Flatten(geometry.GetGeometryType()) != ogr.wkbPolygon:  # a hull of one or two points
        geometry = geometry.Buffer(1e-5) if geometry.GetGeometryType() != ogr.wkbMultiPolygon else geometry
    if ogr.GT_Flatten(geometry.GetGeometryType()) == ogr.wkbPolygon:
        feature.SetGeometry(geometry)
    layer.CreateFeature(feature)


def _write_png(activity: Activity, path: str) -> None:
    """Aircraft per date, one line per site (matplotlib's Agg canvas: no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7.0, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    by_site: dict[str, list] = {}
    for row in activity.rows:
        by_site.setdefault(row.site, []).append(row)
    busiest = sorted(by_site, key=lambda s: -max(r.aircraft for r in by_site[s]))[:LEGEND_SITES]
    for site, rows in by_site.items():
        axes.plot([r.date for r in rows], [r.aircraft for r in rows], marker="o", linewidth=1.2,
                  label=site if site in busiest else None)
    axes.set_xlabel("acquisition date")
    axes.set_ylabel("aircraft")
    axes.set_title(f"Aircraft per site over time ({len(by_site)} site{'s' if len(by_site) != 1 else ''})")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if by_site:
        axes.legend(fontsize="small", loc="best")
    axes.tick_params(axis="x", labelrotation=30)
    figure.savefig(path, format="png")
