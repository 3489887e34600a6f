"""`r2cnn train-cascade`: fit the first-look net on generated and real-airport scenes, calibrate its threshold
on held-out scenes, export resources/cascade/aircraft_cascade.onnx (with a .pt checkpoint beside it)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser(
        "train-cascade", help="fit and calibrate the cascade's first look (a tiny net on a decimated view)"
    )
    p.add_argument("-o", "--output", required=True, help="ONNX file to write (the .pt checkpoint goes beside it)")
    p.add_argument("--dataset", default=None, help="Airbus-form folder (default: ../shared/datasets/airbus-aircraft)")
    p.add_argument("--scenes", type=int, default=24, help="training scenes (a share with real Airbus airports)")
    p.add_argument("--calibration-scenes", type=int, default=12, help="held-out scenes for the threshold")
    p.add_argument("--size", type=int, default=2048, help="scene side in px at 2 m (default 2048)")
    p.add_argument("--minutes", type=float, default=8.0, help="training wall-clock budget (default 8)")
    p.add_argument("--keep", type=float, default=0.995, help="share of patches with aircraft to keep (default 0.995)")
    p.add_argument("--init", help="checkpoint to start from (loaded with weights_only=True)")
    p.add_argument("--cache", default="out/cascade", help="folder for the generated scenes (default out/cascade)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Scenes (cached), fit, calibrate on the held-out ones, export atomically."""
    import dataclasses
    import json

    import numpy as np
    import torch

    from engine.atomic_output import atomic_output
    from engine.config import CascadeConfig
    from engine.datasets import airbus
    from engine.network.cascade_net import CascadeNet, parameter_count
    from engine.training.cascade_data import read_scene, scene_specs, write_scene
    from engine.training.cascade_fit import CascadeFitConfig, calibrate, export_cascade, fit_cascade, patch_scores

    if os.path.exists(args.output) and not args.overwrite:
        raise CliError(f"{args.output} exists (use --overwrite)")
    if args.scenes < 1 or args.calibration_scenes < 1 or not 0.5 < args.keep < 1.0:
        raise CliError("--scenes and --calibration-scenes must be at least 1, --keep in (0.5, 1)")
    torch.set_num_threads(args.threads)
    root = args.dataset or str(airbus.DEFAULT_AIRBUS_ROOT)
    ids = airbus.training_ids(root) if Path(root).is_dir() else []
    half = len(ids) * 2 // 3  # the calibration scenes paste airports the training never saw
    train_specs = scene_specs(args.scenes, 220000, args.size, ids[:half])
    calib_specs = scene_specs(args.calibration_scenes, 229000, args.size, ids[half:])
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    net_config = CascadeConfig()

    def scenes(specs):
        out = []
        for k, spec in enumerate(specs):
            out.append(read_scene(write_scene(spec, cache, root), net_config))
            print(f"scene {k + 1}/{len(specs)}: {out[-1].name}, {int(out[-1].positive.sum())} of "
                  f"{len(out[-1].positive)} patches with aircraft", flush=True)
        return out

    train, calib = scenes(train_specs), scenes(calib_specs)
    fit = CascadeFitConfig(minutes=args.minutes, keep_target=args.keep)
    net = CascadeNet(net_config)
    if args.init:
        state = torch.load(args.init, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"])
    net = fit_cascade(train, fit, net_config, log=lambda line: print(line, flush=True), init=net)
    scores = patch_scores(net, np.concatenate([s.patches_u8 for s in calib]))
    positive = np.concatenate([s.positive for s in calib])
    smallest = np.concatenate([s.smallest_px for s in calib])
    report = calibrate(scores, positive, smallest, args.keep)
    report.update(parameters=parameter_count(net), train_scenes=len(train), calibration_scenes=len(calib),
                  scene_px=args.size, keep_target=args.keep)
    print(json.dumps(report, indent=2), flush=True)
    final = dataclasses.replace(net_config, threshold=report["threshold"], calibrated_keep=report["kept_share"])
    export_cascade(net, args.output, final, report)
    with atomic_output(Path(args.output).with_suffix(".pt"), suffix=".pt") as tmp:
        torch.save({"model": net.state_dict(), "cascade_config": json.dumps(dataclasses.asdict(final))}, tmp)
    Path(args.output).with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0
