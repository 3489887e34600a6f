"""`r2cnn detect-archive INPUT... -o OUTDIR`: many scenes on Dask distributed (a local cluster or a scheduler's),
one GeoPackage per scene and a catalogue, resumable; the detection options are `r2cnn detect`'s own."""

from __future__ import annotations

import os
import sys

from engine.cli import activity_cmd, detect_cmd
from engine.cli.arg_types import host_port, non_negative_int, positive_float, positive_int
from engine.errors import CliError, R2cnnError

_SHOWN_FAILURES = 10
DEFAULT_SCENE_TIMEOUT_MIN = 60.0  # generous: far past what a whole scene needs (README Performance)


def register(subparsers) -> None:
    """Add the subcommand: inputs, output folder, cluster, tries, and r2cnn detect's model and scene options."""
    parser = subparsers.add_parser(
        "detect-archive",
        help="detect aircraft in many scenes on Dask -> one GeoPackage per scene + a catalogue",
        description="Run `r2cnn detect` on every scene of an archive, one Dask task per scene, on a local cluster "
        "or an existing one (--scheduler). Writes OUTDIR/scenes/<scene>-<id>.gpkg per scene and "
        "OUTDIR/catalogue.gpkg (layer 'scenes': one footprint per scene with status, detections, seconds, error, "
        "model and settings hash). Run it again to resume: scenes done with the same input (size, mtime), model "
        "and settings are skipped. Exit 0: every scene done; 1: some failed (listed); 2: bad input; 130: Ctrl-C "
        "(finished scenes kept).",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="rasters, folders (searched recursively), globs, or manifests (.csv / .txt of paths or GDAL URLs)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if missing)")
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (tcp://host:8786)")
    cluster.add_argument(
        "--workers", type=positive_int, metavar="N",
        help="local cluster: worker processes (default: one per core, 2 GB of memory each)",
    )
    cluster.add_argument(
        "--threads-per-worker", type=positive_int, metavar="T",
        help="local cluster: scenes each worker runs at once (default 1)",
    )
    cluster.add_argument(
        "--model-threads", type=positive_int, metavar="N",
        help="inference threads per scene (default: the cores shared among the scenes running at once)",
    )
    cluster.add_argument(
        "--dashboard-address", type=host_port, default=":8787", metavar="HOST:PORT",
        help="local cluster's dashboard (default :8787)",
    )
    parser.add_argument(
        "--tries", type=positive_int, default=2, metavar="N",
        help="runs of a scene that fails (a corrupt file) before it is recorded as failed (default 2); a worker "
        "that dies is Dask's business: its scenes run elsewhere",
    )
    parser.add_argument(
        "--scene-timeout", type=positive_float, default=DEFAULT_SCENE_TIMEOUT_MIN, metavar="MIN",
        help="a scene still running after MIN minutes is stopped and recorded failed, so that one hung input "
        f"cannot stall the archive (default {DEFAULT_SCENE_TIMEOUT_MIN:g})",
    )
    parser.add_argument(
        "--all-detections", action="store_true",
        help="also every detection in the catalogue's layer 'aircraft' (EPSG:4326)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary (failures only)")
    parser.add_argument(
        "--block-patches", type=non_negative_int, metavar="N",
        help="a scene of more patches runs as blocks of windows of about N patches, each a task, merged as one "
        "run merges (the same boxes); 0: one task per scene (default: about a GF-1 scene's patch grid)",
    )
    detect_cmd.add_model_options(parser)
    detect_cmd.add_scene_options(parser.add_argument_group("scene options (as r2cnn detect)"))
    activity = parser.add_argument_group("activity over time (as r2cnn activity; written at the end)")
    activity.add_argument(
        "--no-activity", action="store_true",
        help="do not write OUTDIR/activity.csv, .gpkg and .png (aircraft per site and date, arrivals, departures)",
    )
    activity_cmd.add_activity_options(activity)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Check inputs, model and cluster options, run the archive, print the summary; 1 when scenes failed."""
    from engine.archive import ArchiveSettings, ClusterSpec, collect_inputs, connect, dashboard_link, run_archive
    from engine.archive.outdir import check_outdir, clear_temporaries

    if args.scheduler and (args.workers or args.threads_per_worker):
        raise CliError("--workers and --threads-per-worker size a local cluster; not with --scheduler")
    config = detect_cmd.detect_config(args)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    spec = ClusterSpec(args.scheduler, args.workers, args.threads_per_worker, args.dashboard_address)
    settings = ArchiveSettings(
        args.output, config, args.tries, args.all_detections, args.model_threads or spec.model_threads(),
        scene_timeout_s=60.0 * args.scene_timeout,
        **({} if args.block_patches is None else {"block_patches": args.block_patches}),
    )
    progress, summary = _Progress(args.quiet), None
    try:
        check_outdir(args.output)
        scenes = collect_inputs(args.inputs)
        _check_model(config)
        activity = None if args.no_activity else activity_cmd.activity_settings(args)
        with connect(spec) as client:
            say(f"dashboard: {dashboard_link(client)}")
            say(_cluster_line(client, spec))
            summary = run_archive(scenes, settings, client, progress.record, progress.start)
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        progress.close()
        if summary is None:  # else the signal came while the cluster shut down: every scene had finished
            say(f"{progress.finished} scene(s) finished and kept; the same command resumes")
            raise
    finally:
        clear_temporaries(args.output)  # what workers killed mid-write left, now that they are gone
    progress.close()
    if activity is not None and summary.count("done"):
        _activity(args, activity, say)
    failed = [r for r in summary.records if r.status == "failed"]
    for record in failed[:_SHOWN_FAILURES]:
        named = record.error if record.path in record.error else f"{record.path}: {record.error}"
        print(f"failed: {named}", file=sys.stderr)
    if len(failed) > _SHOWN_FAILURES:
        print(f"... and {len(failed) - _SHOWN_FAILURES} more failed (catalogue, status 'failed')", file=sys.stderr)
    say(
        f"{len(summary.records)} scenes: {summary.count('done')} done ({summary.kept} kept from earlier runs), "
        f"{len(failed)} failed, {summary.count('skipped')} skipped; {summary.detections} aircraft; "
        f"{summary.seconds:.1f} s; catalogue {summary.catalogue}"
    )
    return 1 if failed else 0


def _activity(args, settings, say) -> None:
    """The activity summary of OUTDIR (what `r2cnn activity OUTDIR` writes), after the scenes."""
    from engine.archive.archive_activity import archive_activity, catalogue_scenes

    try:
        scenes = catalogue_scenes(args.output, args.date_pattern)
        if not any(scene.date.date for scene in scenes):  # nothing to put on a time line: no files, one line
            say(f"activity: none of the {len(scenes)} done scenes has a date (see --date-pattern); not written")
            return
        activity, paths = archive_activity(args.output, settings, args.date_pattern, scenes)
    except R2cnnError as exc:
        raise CliError(f"{exc} (the scenes are kept; r2cnn activity {args.output} writes the summary again)") from exc
    activity_cmd.report(activity, paths, say)


def _check_model(config) -> None:
    """Load the model once here: a bad --model or setting is one line now, not one failure per scene later."""
    from engine.runtime import load_detector
    from engine.runtime.run_settings import RunSettings

    detector = load_detector(
        config.model_path, config.backend, config.device, config.score_threshold, 1,
        precision=config.precision, runtime=config.runtime,
    )
    RunSettings.for_detector(config, detector)  # the settings' rules, as r2cnn detect and every scene check them


def _cluster_line(client, spec) -> str:
    """How many workers and threads the scenes run on."""
    workers = client.scheduler_info().get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    where = spec.scheduler or "a local cluster"
    return f"{len(workers)} worker(s), {threads} thread(s) on {where}"


class _Progress:
    """A tqdm bar over scenes (aircraft and failures so far) on a terminal; one line per scene otherwise."""

    def __init__(self, quiet: bool):
        self.quiet, self.finished, self.failed, self.aircraft = quiet, 0, 0, 0
        self._bar, self._total, self._done = None, 0, 0

    def start(self, to_run: int, kept: int) -> None:
        self._total, self._done = to_run + kept, kept
        if self.quiet:
            return
        print(f"{to_run + kept} scenes: {kept} already done, {to_run} to run", file=sys.stderr)
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=to_run + kept, initial=kept, unit="scene", desc="scenes", leave=True)

    def record(self, record) -> None:
        self.finished += record.status == "done"
        self.failed += record.status == "failed"
        self.aircraft += record.detections
        self._done += 1
        if self._bar is not None:
            if record.status == "failed":
                self._bar.write(f"failed: {os.path.basename(record.path)}: {record.error}", file=sys.stderr)
            self._bar.set_postfix(aircraft=self.aircraft, failed=self.failed, refresh=False)
            self._bar.update(1)
        elif not self.quiet:
            what = f"{record.detections} aircraft, {record.seconds:.1f} s" if record.status == "done" else record.error
            name = os.path.basename(record.path)
            print(f"[{self._done}/{self._total}] {record.status} {name}: {what}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
