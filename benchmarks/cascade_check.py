"""`python -m benchmarks.cascade_check`: the cascade against the full gate on validation patches (the Airbus
validation split, generated scenes and scenes with the validation airports pasted in; none trained on), for
the model card: share of gate-passed patches dropped, share of patches with aircraft kept (tiny apart)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VALIDATION_SEED = 231000  # training scenes 220000.., calibration 229000..: never these


def airbus_check(detector, scorer):
    """The 16 validation images, each one patch at 2 m, read as an in-memory scene."""
    from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT, load_image, validation_ids
    from engine.evaluation.cascade_check import check_scene, combine
    from engine.pipeline.scene import ImageScene, patch_fill_value

    checks = []
    for image_id in validation_ids():
        item = load_image(DEFAULT_AIRBUS_ROOT, image_id, gsd_m=detector.config.gsd_m)
        scene = ImageScene(item.image, patch_fill_value(detector.config), name=image_id)
        checks.append(check_scene(scene, item.boxes_px, detector, scorer))
    return combine(checks)


def scene_check(detector, scorer, count: int, size_px: int, folder: Path, pasted: bool):
    """Generated scenes (or scenes with the validation airports pasted) through RasterScene, as detect reads them."""
    from engine.config import DetectConfig
    from engine.datasets.airbus import validation_ids
    from engine.evaluation.cascade_check import check_scene, combine
    from engine.pipeline.raster_reader import RasterScene
    from engine.pipeline.scene import patch_fill_value
    from engine.synthetic.scene_generator import read_truth
    from engine.training.cascade_data import scene_specs, write_scene

    ids = validation_ids() if pasted else []
    specs = scene_specs(count, VALIDATION_SEED + (500 if pasted else 0), size_px, ids, 1.0 if pasted else 0.0)
    checks = []
    for spec in specs:
        path = write_scene(spec, folder)
        with RasterScene(str(path), detector.config.gsd_m, None, None, DetectConfig().stretch,
                         patch_fill_value(detector.config)) as scene:
            checks.append(check_scene(scene, read_truth(path).boxes_raster_px, detector, scorer))
    return combine(checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cascade_check", description=__doc__.splitlines()[0])
    parser.add_argument("--cascade", help="cascade ONNX file (default: the bundled one)")
    parser.add_argument("--scenes", type=int, default=8, help="generated validation scenes (and as many pasted)")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--out-dir", default="out/cascade_check")
    parser.add_argument("--json", help="report path (default OUT_DIR/cascade_check.json)")
    args = parser.parse_args(argv)
    from engine.runtime import load_detector
    from engine.runtime.cascade_runtime import CascadeScorer

    detector, scorer = load_detector(None), CascadeScorer(args.cascade)
    folder = Path(args.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    report = {"cascade": scorer.path, "threshold": scorer.config.threshold}
    report["airbus_validation"] = airbus_check(detector, scorer).summary()
    print(json.dumps(report, indent=2), file=sys.stderr, flush=True)
    report["generated_scenes"] = scene_check(detector, scorer, args.scenes, args.size, folder, False).summary()
    report["pasted_validation_airports"] = scene_check(detector, scorer, args.scenes, args.size, folder, True).summary()
    print(json.dumps(report, indent=2))
    Path(args.json or folder / "cascade_check.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
