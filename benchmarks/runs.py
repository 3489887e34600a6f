"""One benchmark detection run in a fresh process (its peak memory is its own), the cached scene, the
validation AP50 of a model variant in a runtime, and the median over rounds."""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from benchmarks.profile import TimedDetector
from benchmarks.report import found_truth
from engine.contract import ONNXRUNTIME

TUNING_OPTIONS = ("threads", "spinning", "parallel", "openvino_precision")  # model_session.SessionTuning fields


def scene_for(out_dir: Path, height: int, width: int, seed: int, airports: int) -> Path:
    """The cached benchmark scene (generated block by block on first use)."""
    from engine.synthetic.scene_generator import truth_path, write_scene_geotiff

    path = out_dir / f"scene_{height}x{width}_seed{seed}_a{airports}.tif"
    if not (path.is_file() and truth_path(path).is_file()):
        print(f"generating {path} (once) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        write_scene_geotiff(path, height, width, seed=seed, n_airports=airports)
        print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


def run_once(scene_path: str, use_gate: bool, options: dict) -> dict:
    """One detection run (in its own process): stats, wall time, patches/s, the aircraft it found, and the
    per-call network times the time shares come from (benchmarks.profile)."""
    from engine.config import DetectConfig
    from engine.evaluation.scene_recall import match_scene
    from engine.pipeline.detect import detect_raster
    from engine.runtime import load_detector
    from engine.runtime.model_session import SessionTuning
    from engine.synthetic.scene_generator import read_truth

    tuning = {k: options[k] for k in TUNING_OPTIONS if options.get(k) is not None}
    config = DetectConfig(
        model_path=options["model"],
        device=options["device"],
        runtime=options["runtime"],
        batch_size=options["batch_size"],
        use_gate=use_gate,
        window_patches=options["window_patches"],
        prescreen=options["prescreen"],
        gate_threshold=options.get("gate_threshold"),
        cascade=bool(options.get("cascade", False)),
        extra=tuning,
    )
    started = time.perf_counter()
    settings = SessionTuning(**tuning)
    inner = load_detector(
        config.model_path, config.backend, config.device, None, settings.threads, settings, runtime=config.runtime
    )
    detector = TimedDetector(inner)
    result = detect_raster(scene_path, config, detector=detector)
    wall = time.perf_counter() - started
    stats = result.stats.to_dict()
    truth = read_truth(scene_path).boxes_raster_px
    match = match_scene(result.boxes_raster_px, result.scores, truth)
    computed = stats["patches_total"] - stats["patches_skipped_nodata"]
    width, height = stats["raster_size_px"]
    gsd_x, gsd_y = stats["gsd_raster_m"]
    return {
        "wall_s": round(wall, 2),
        **scene_rates(width * height / 1e6, width * height * gsd_x * gsd_y / 1e6, wall),
        "patches_per_s": round(stats["patches_total"] / wall, 2),
        "network_patches_per_s": round(computed / max(stats["stage_seconds"]["network"], 1e-9), 2),
        "recall_iou50": round(match.recall, 4),
        "precision_iou50": round(match.precision, 4),
        "true_aircraft": match.true_count,
        "found_truth": sorted(found_truth(result.boxes_raster_px, result.scores, truth)),
        "profile": detector.profile(),
        **stats,
    }


def scene_rates(mpx: float, km2: float, wall_s: float) -> dict:
    """The scene's size and how fast it went: megapixels and square kilometres per second."""
    return {"scene_mpx": round(mpx, 3), "scene_km2": round(km2, 3), "mpx_per_s": round(mpx / wall_s, 2),
            "km2_per_s": round(km2 / wall_s, 2)}


def validation_ap50(model_path: str, runtime: str = ONNXRUNTIME) -> float | None:
    """VOC AP50 on the fixed Airbus validation split, as `r2cnn evaluate` reports it (None: no dataset)."""
    from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT, load_image, read_annotations, validation_ids
    from engine.evaluation.evaluate import evaluate_detector
    from engine.evaluation.metrics import MIN_SCORE
    from engine.runtime import load_detector

    if not DEFAULT_AIRBUS_ROOT.is_dir():
        return None
    detector = load_detector(model_path, device="cpu", min_score=MIN_SCORE, runtime=runtime)
    annotations = read_annotations(DEFAULT_AIRBUS_ROOT)
    images = [
        load_image(DEFAULT_AIRBUS_ROOT, i, gsd_m=detector.config.gsd_m, annotations=annotations)
        for i in validation_ids()
    ]
    report = evaluate_detector(detector, images, float(detector.config.gate_threshold), with_coco=False)
    return round(float(report.detection.ap50), 4)


def isolated(function, *args):
    """function(*args) in a fresh spawned process: its peak RSS is not inflated by anything before."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def median_of_rounds(previous: dict | None, latest: dict) -> dict:
    """One configuration's record over its rounds: the first round's detections and stats, wall time and
    patches/s as the median of every round (all rounds listed), peak memory the highest seen."""
    if previous is None:
        return {**latest, "wall_s_rounds": [latest["wall_s"]]}
    rounds = [*previous["wall_s_rounds"], latest["wall_s"]]
    wall = round(statistics.median(rounds), 2)
    return {
        **previous,
        "wall_s": wall,
        "wall_s_rounds": rounds,
        "patches_per_s": round(previous["patches_total"] / wall, 2),
        **(scene_rates(previous["scene_mpx"], previous["scene_km2"], wall) if "scene_mpx" in previous else {}),
        "peak_rss_mb": max(previous["peak_rss_mb"], latest["peak_rss_mb"]),
    }
