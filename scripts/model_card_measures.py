"""Every measure of the model card for one model, as JSON: how a new model is compared with the shipped one.

    .venv/bin/python scripts/model_card_measures.py --model M.window.int8.onnx --fp32 M.onnx \
        --scenes runs/scenes --bench-scene out/bench/scene_18000x18192_seed2024_a4.tif --out measures.json

Without --model / --fp32: the bundled files. Each figure runs the deployed pipeline (detect_scene /
detect_raster) with the model's own thresholds unless a table says otherwise.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.config import DetectConfig
from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT, load_image, read_annotations, split_ids
from engine.evaluation.evaluate import evaluate_detector
from engine.evaluation.metrics import DEFAULT_SCORE_THRESHOLDS, MIN_SCORE
from engine.evaluation.scene_recall import evaluate_scenes, pooled, scene_paths
from engine.ops.box_arrays import greedy_match
from engine.pipeline.detect import detect_raster
from engine.runtime import bundled_model_path, load_detector
from engine.synthetic.scene_generator import read_truth, write_scene_geotiff

LARGE_PX = 40.0  # the demo target: every aircraft of this size or more found


def crops(detector, object_scale: float = 1.0) -> dict:
    """Validation split at the model's gsd (aircraft x object_scale): AP50, bins, the recommended point."""
    root = str(DEFAULT_AIRBUS_ROOT)
    annotations = read_annotations(root)
    images = [
        load_image(root, i, gsd_m=detector.config.gsd_m / object_scale, annotations=annotations)
        for i in split_ids("val", root)
    ]
    recommended = float(detector.config.score_threshold)
    grid = sorted({*DEFAULT_SCORE_THRESHOLDS, 0.3, 0.54, 0.6, 0.7, recommended})
    report = evaluate_detector(detector, images, float(detector.config.gate_threshold), grid)
    det = report.detection
    point = next(r for r in det.rows if r.score_threshold == recommended)
    return {
        "ap50": det.ap50,
        "max_recall": det.max_recall,
        "gate_aircraft_recall": report.gate.aircraft_recall,
        "coco_ap50": report.coco.ap50 if report.coco is not None else None,
        "rows": [(r.score_threshold, r.tp, r.fp, r.fn, r.recall, r.precision) for r in det.rows],
        "recommended": {"threshold": recommended, "recall": point.recall, "precision": point.precision},
    }


def scene_figures(model_path: str | None, path: str, truth_boxes: np.ndarray, stretch: str) -> dict:
    """detect_raster with the defaults; recall, precision, and the aircraft >= LARGE_PX missed."""
    started = time.perf_counter()
    found = detect_raster(path, DetectConfig(model_path=model_path, stretch=stretch))
    matching = greedy_match(found.boxes_raster_px, found.scores, truth_boxes, 0.5)
    size = np.sqrt(np.prod(truth_boxes[:, 2:] - truth_boxes[:, :2], axis=1))
    missed_large = int(((size >= LARGE_PX) & ~matching.truth_found).sum())
    tp = int(matching.is_tp.sum())
    return {
        "aircraft": len(truth_boxes),
        "recall": tp / len(truth_boxes),
        "precision": tp / max(1, len(found.scores)),
        "large": int((size >= LARGE_PX).sum()),
        "large_missed": missed_large,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="the CPU default file (INT8 window graph); default bundled")
    parser.add_argument("--fp32", help="the fp32 reference file; default bundled")
    parser.add_argument("--scenes", nargs="*", default=[], help="whole-scene validation set (r2cnn validation-scenes)")
    parser.add_argument("--bench-scene", help="make bench's GF-1-sized scene (out/bench/scene_*.tif, truth beside it)")
    parser.add_argument("--stretch", default=DetectConfig().stretch)
    parser.add_argument("--skip", default="", help="comma list of parts to skip: fp32,scales,scenes,demo")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    result: dict = {"model": args.model, "fp32": args.fp32, "stretch": args.stretch}
    default = load_detector(args.model, min_score=MIN_SCORE, precision="auto")
    result["crops"] = crops(default)
    if "fp32" not in skip:
        result["crops_fp32"] = crops(load_detector(args.fp32, min_score=MIN_SCORE, precision="fp32"))
    if "scales" not in skip:
        result["scale_0.75"] = crops(default, 0.75)
        result["scale_1.25"] = crops(default, 1.25)
    if "demo" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            for name, seed in (("demo", 7), ("seed11", 11)):
                truth = write_scene_geotiff(Path(tmp) / f"{name}.tif", 2048, 2048, seed=seed, n_airports=2)
                result[name] = scene_figures(
                    args.model, str(Path(tmp) / f"{name}.tif"), truth.boxes_raster_px, args.stretch
                )
    if args.bench_scene:
        truth = read_truth(args.bench_scene).boxes_raster_px
        result["bench_scene"] = scene_figures(args.model, args.bench_scene, truth, args.stretch)
        result["bench_scene_fp32"] = scene_figures(args.fp32 or str(bundled_model_path()), args.bench_scene, truth,
                                                   args.stretch)
    if args.scenes and "scenes" not in skip:
        scores = evaluate_scenes(
            scene_paths(args.scenes),
            load_detector(args.model),
            DetectConfig(model_path=args.model, stretch=args.stretch),
        )
        total = pooled(scores)
        result["scenes"] = {
            "per_scene": [(Path(s.path).name, s.match.recall, s.match.precision, s.seconds) for s in scores],
            "recall": total.recall,
            "precision": total.precision,
        }
    Path(args.out).write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
