"""`python -m benchmarks.archive_bench` (make bench-archive): scenes per hour of `r2cnn detect-archive` on this
machine, 1 worker x 2 threads against 2 workers x 1 thread and a plain loop in one process, what the
cluster costs per scene (scenes of one patch, where the detection itself is almost free), and one huge scene
(make bench's GF-1-sized one) on 2 workers, split into blocks of windows against one task (the same boxes).

Scenes are generated once and cached in out/bench/archive/ and out/bench/ (git-ignored); the report goes to
out/bench/archive/ as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.bench import GF1_HEIGHT_PX, GF1_WIDTH_PX, parse_size
from benchmarks.runs import scene_for
from engine.archive import ArchiveSettings, ClusterSpec, connect, run_archive
from engine.archive.footprint import footprint_wkt
from engine.archive.split_scene import DEFAULT_BLOCK_PATCHES
from engine.cli.arg_types import positive_int
from engine.config import DetectConfig
from engine.outputs.vector_writer import write_detections
from engine.pipeline.detect import detect_raster
from engine.runtime import bundled_model_for, load_detector

OUT = Path("out/bench/archive")
SHAPES = ((1, 2), (2, 1))  # (workers, threads per worker): the two ways to fill two cores


def scenes(folder: Path, count: int, side: int, airports: int, seed: int) -> list[str]:
    """count generated scenes of side x side px (cached: made once)."""
    from engine.synthetic.scene_generator import write_scene_geotiff

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"scene_{side}_a{airports}_s{seed + index}.tif"
        if not path.exists():
            write_scene_geotiff(path, side, side, seed=seed + index, n_airports=airports)
        paths.append(str(path))
    return paths


def serial(paths: list[str], config: DetectConfig, threads: int) -> float:
    """Seconds for what `r2cnn detect` does per scene, in one process: model loaded once (not timed)."""
    detector = load_detector(config.model_path, threads=threads, precision=config.precision)
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        start = time.perf_counter()
        for index, path in enumerate(paths):
            result = detect_raster(path, config, detector=detector)
            write_detections([result], os.path.join(folder, f"{index}.gpkg"))
            footprint_wkt(path)
        return time.perf_counter() - start


def archive(
    paths: list[str], config: DetectConfig, workers: int, threads: int, model_threads: int,
    block_patches: int = DEFAULT_BLOCK_PATCHES, warm_paths: list[str] | None = None,
) -> dict:
    """Cluster start, then one warm-up scene per worker thread (model loads), then the timed run of every scene."""
    start = time.perf_counter()
    spec = ClusterSpec(workers=workers, threads_per_worker=threads, dashboard_address=":0")
    with connect(spec) as client, tempfile.TemporaryDirectory(dir=OUT) as folder:
        started = time.perf_counter() - start
        warm = ArchiveSettings(os.path.join(folder, "warm"), config, model_threads=model_threads,
                               block_patches=block_patches)
        run_archive((warm_paths or paths)[: workers * threads], warm, client)
        settings = replace(warm, outdir=os.path.join(folder, "run"))
        timed = time.perf_counter()
        summary = run_archive(paths, settings, client)
        seconds = time.perf_counter() - timed
        assert summary.count("done") == len(paths), [r.error for r in summary.records if r.error]
        boxes = [_boxes(os.path.join(settings.outdir, r.output)) for r in summary.records]
    return {"cluster_start_s": round(started, 2), "seconds": round(seconds, 2), "detections": summary.detections,
            "boxes": boxes}


def huge(path: str, config: DetectConfig, warm_paths: list[str], block_patches: int) -> dict:
    """One huge scene on 2 workers x 1 thread: as blocks of windows, then as one task (the other worker idle)."""
    rows = {}
    for name, blocks in ((f"split, blocks of about {block_patches} patches", block_patches), ("one task", 0)):
        rows[name] = archive([path], config, 2, 1, 1, blocks, warm_paths)
    split, whole = rows.values()
    same = split.pop("boxes") == whole.pop("boxes")
    speed_up = round(whole["seconds"] / split["seconds"], 2)
    return {"scene": os.path.basename(path), "same_boxes": same, "speed_up": speed_up, **rows}


def _boxes(gpkg: str) -> list:
    """The scene file's detections, order-free: (score, envelope) rounded to float noise."""
    from osgeo import ogr

    dataset = ogr.Open(gpkg)
    found = sorted((round(f.GetField("score"), 6), *(round(v, 4) for v in f.GetGeometryRef().GetEnvelope()))
                   for f in dataset.GetLayer(0))
    dataset = None
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.archive_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=positive_int, default=8, help="scenes per configuration (default 8)")
    parser.add_argument("--side", type=positive_int, default=3072, help="scene side in px (default 3072)")
    parser.add_argument("--tiny", type=positive_int, default=40, help="one-patch scenes for the overhead (40)")
    parser.add_argument("--huge", type=parse_size, default=(GF1_HEIGHT_PX, GF1_WIDTH_PX), metavar="HxW",
                        help="the huge scene split across 2 workers (default: make bench's GF-1-sized scene)")
    parser.add_argument("--block-patches", type=positive_int, default=DEFAULT_BLOCK_PATCHES, metavar="N",
                        help=f"blocks of the huge scene (default {DEFAULT_BLOCK_PATCHES}, detect-archive's)")
    parser.add_argument("--only-huge", action="store_true", help="only the huge scene (a quick check)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    config = DetectConfig(model_path=str(bundled_model_for("auto", "cpu")))
    tiny = scenes(OUT / "tiny", args.tiny, 512, 0, 500)
    height, width = args.huge
    huge_scene = str(scene_for(OUT.parent, height, width, 2024, 4))  # make bench's scene, cached there
    split = huge(huge_scene, config, tiny, args.block_patches)
    print(json.dumps(split, indent=2))
    if args.only_huge:
        return 0
    big = scenes(OUT / "scenes", args.scenes, args.side, 1, 100)
    rows = {"serial, 1 process, 2 inference threads": {"seconds": round(serial(big, config, 2), 2)}}
    for workers, threads in SHAPES:
        rows[f"{workers} worker(s) x {threads} thread(s), 1 inference thread each"] = archive(
            big, config, workers, threads, 1
        )
        rows[f"{workers} worker(s) x {threads} thread(s), 1 inference thread each"].pop("boxes")
    for row in rows.values():
        row["scenes_per_hour"] = round(3600 * len(big) / row["seconds"])
    tiny_serial = serial(tiny, config, 1)
    tiny_archive = archive(tiny, config, 1, 1, 1)
    tiny_archive.pop("boxes")
    overhead = {
        "serial_s_per_scene": round(tiny_serial / len(tiny), 3),
        "archive_s_per_scene": round(tiny_archive["seconds"] / len(tiny), 3),
        "overhead_s_per_scene": round((tiny_archive["seconds"] - tiny_serial) / len(tiny), 3),
        "cluster_start_s": tiny_archive["cluster_start_s"],
    }
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "model": os.path.basename(config.model_path),
        "scenes": f"{len(big)} x {args.side} px, 1 airport each",
        "configurations": rows,
        "overhead": overhead | {"scenes": f"{len(tiny)} x 512 px (one patch)"},
        "huge scene on 2 workers": split,
    }
    path = OUT / f"archive_bench_{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print("| configuration | seconds | scenes per hour |\n| --- | ---: | ---: |")
    for name, row in rows.items():
        print(f"| {name} | {row['seconds']:.1f} | {row['scenes_per_hour']} |")
    print(json.dumps(overhead, indent=2))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
