"""`r2cnn activity OUTDIR`: aircraft per site and date, and arrivals / departures, from an archive run's
catalogue without running detection again (r2cnn detect-archive writes the same at its end)."""

from __future__ import annotations

import sys

from engine.cli.arg_types import positive_float
from engine.errors import CliError, R2cnnError

SHOWN = 10  # scenes listed by name (undated, left out); then a count


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "activity",
        help="aircraft per site and date, arrivals and departures, from a detect-archive output folder",
        description="Read OUTDIR/catalogue.gpkg and the per-scene GeoPackages of r2cnn detect-archive; write "
        "OUTDIR/activity.csv (site, date, aircraft), OUTDIR/activity.gpkg (layers sites, site_counts, changes) and "
        "OUTDIR/activity.png. Scenes without an acquisition date are listed, not guessed.",
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="the output folder of r2cnn detect-archive")
    add_activity_options(parser)
    parser.set_defaults(func=run)


def add_activity_options(parser) -> None:
    """Sites, dates and matching: shared with r2cnn detect-archive."""
    from engine.archive.activity import DEFAULT_CLUSTER_M, DEFAULT_MATCH_IOU

    parser.add_argument(
        "--sites", metavar="SITES",
        help="polygon layer of sites (airfields; any OGR format and CRS); default: clusters of detections",
    )
    parser.add_argument("--site-name-field", metavar="FIELD", help="the sites' name field (default: name or site)")
    parser.add_argument(
        "--date-pattern", metavar="REGEX",
        help="take each scene's date from its file name with this regular expression (its first group, else the "
        "match: YYYYMMDD, YYYY-MM-DD...), over the metadata",
    )
    parser.add_argument(
        "--cluster-distance", type=positive_float, default=DEFAULT_CLUSTER_M, metavar="METRES",
        help=f"without --sites: detections this close belong to one site (default {DEFAULT_CLUSTER_M:g} m)",
    )
    parser.add_argument(
        "--match-iou", type=positive_float, default=DEFAULT_MATCH_IOU, metavar="IOU",
        help=f"one aircraft on two dates: box IoU on the ground at least this (default {DEFAULT_MATCH_IOU:g})",
    )


def activity_settings(args):
    """The parsed options as ActivitySettings; a bad --date-pattern or --sites is one line, before any work."""
    from engine.archive.activity import ActivitySettings
    from engine.archive.ground import read_sites
    from engine.archive.scene_dates import compile_pattern

    if args.match_iou > 1:
        raise CliError(f"--match-iou must be at most 1, got {args.match_iou}")
    compile_pattern(args.date_pattern)
    if args.sites:
        read_sites(args.sites, args.site_name_field)
    return ActivitySettings(args.sites, args.site_name_field, args.cluster_distance, args.match_iou)


def run(args) -> int:
    from engine.archive.archive_activity import archive_activity

    try:
        settings = activity_settings(args)
        activity, paths = archive_activity(args.outdir, settings, args.date_pattern)
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    report(activity, paths)
    return 0


def report(activity, paths: dict[str, str], say=lambda m: print(m, file=sys.stderr)) -> None:
    """Undated and left-out scenes one line each (at most SHOWN of each), then the summary line."""
    for word, listed in (("undated", activity.undated), ("left out", activity.unplaced)):
        for scene, why in listed[:SHOWN]:
            say(f"{word}: {scene}: {why}")
        if len(listed) > SHOWN:
            say(f"... and {len(listed) - SHOWN} more {word}")
    arrived = sum(c.change == "arrived" for c in activity.changes)
    say(
        f"activity: {len(activity.sites)} sites, {len(activity.rows)} site-dates, "
        f"{sum(r.aircraft for r in activity.rows)} aircraft counted, {arrived} arrived, "
        f"{len(activity.changes) - arrived} departed, {len(activity.undated)} undated scenes; {paths['csv']}"
    )
