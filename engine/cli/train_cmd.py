"""`r2cnn train`: train R2-CNN on Airbus-form data (+ generated scenes), then export ONNX; with --data or --coco,
fine-tune on the user's own labelled rasters (engine.cli.finetune_run)."""

from __future__ import annotations

import dataclasses
import math
import os

from engine.cli.arg_types import non_negative_int, positive_float, positive_int
from engine.cli.data_args import add_data_arguments, has_data
from engine.config import DetectConfig, ModelConfig
from engine.errors import CliError
from engine.pipeline.raster_bands import STRETCH_MODES

MAX_CROP_PX = 2048  # a crop is one batch element: past this it is a memory problem, not a training choice
MAX_LR = 1.0  # SGD/AdamW on this network diverges long before


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser("train", help="train the network (checkpoints and resume in --out)")
    p.add_argument(
        "--dataset", default=None, help="folder in the Airbus form (default: ../shared/datasets/airbus-aircraft)"
    )
    p.add_argument("--gsd", type=positive_float, default=None,
                   help="model ground resolution in metres (default 2.0; fine-tuning: the --init model's)")
    p.add_argument("--loss", choices=("unified", "jol"), default="jol", help="unified loss (Eq. 1) or with JOL weights")
    p.add_argument("--steps", type=positive_int, default=3000)
    p.add_argument("--lr", type=positive_float, default=2e-3)
    p.add_argument("--time-budget-min", type=positive_float, default=None, help="end the schedule after this wall time")
    p.add_argument("--crop", type=positive_int, default=320, help="training crop in px (multiple of 64)")
    p.add_argument("--positives", type=positive_int, default=2, help="positive crops per batch (negatives: 3x)")
    p.add_argument("--synthetic", type=non_negative_int, default=None,
                   help="generated scenes mixed into training (default 48; 0 with --data / --coco)")
    p.add_argument("--scenes", type=non_negative_int, default=0,
                   help="training airports pasted into generated cluttered land, cached in OUT/scenes (default 0)")
    p.add_argument("--detector-negatives", action="store_true",
                   help="train the RPN and R-FCN on crops without aircraft too (false alarms on open land)")
    p.add_argument("--anchors", default=None,
                   help="kmeans (Eq. 2 on the training boxes), keep (the --init checkpoint's), paper, or sizes "
                   "'a,b,c' (default kmeans; keep when fine-tuning with --init on --data / --coco)")
    p.add_argument(
        "--scale-jitter", default="0.8,1.25", help="crop region / crop size range 'low,high' (objects scale by 1/x)"
    )
    p.add_argument("--init", default=None, help="warm start from this checkpoint (.pt; RPN remapped to new anchors)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="float32 trunk (default bf16 if native)")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/r2cnn",
                   help="run folder: checkpoint.pt, model.onnx (an interrupted run resumes; a finished one: --resume)")
    p.add_argument("--resume", action="store_true",
                   help="extend a finished run in --out (its model.onnx and comparison are replaced)")
    group = add_data_arguments(p, "fine-tuning on your own labelled data (with --init resources/models/...pt)")
    group.add_argument("--val-fraction", type=float, default=0.2,
                       help="share of the data's blocks held out for validation, chosen by --seed (default 0.2)")
    group.add_argument("--stretch", choices=STRETCH_MODES, default=DetectConfig().stretch,
                       help="8-bit mapping of the rasters, as in r2cnn detect (default %(default)s)")
    p.set_defaults(func=run)


def anchor_sizes(choice: str, boxes_px, init: ModelConfig | None = None) -> tuple[float, ...]:
    """The anchor sizes the RPN uses: k-means on the training boxes by default, or the --init model's."""
    if choice == "keep":
        if init is None:
            raise CliError("--anchors keep needs --init (the checkpoint whose anchors are kept)")
        return tuple(init.anchor_sizes_px)
    if choice == "paper":
        return ModelConfig().anchor_sizes_px
    if choice == "kmeans":
        import numpy as np

        from engine.anchors.kmeans_scales import kmeans_anchor_sizes

        sizes = np.sqrt(np.prod(boxes_px[:, 2:] - boxes_px[:, :2], axis=1))
        return tuple(round(float(s), 2) for s in kmeans_anchor_sizes(sizes, k=6, seed=0))
    try:
        return tuple(float(v) for v in choice.split(","))
    except ValueError as exc:
        raise CliError(f"--anchors must be kmeans, keep, paper or sizes 'a,b,c', got {choice!r}") from exc


def run(args) -> int:
    """Load data, pick anchors, train (or resume), export the ONNX model next to the checkpoint."""
    import numpy as np

    from engine.export.onnx_export import export_onnx
    from engine.training.data_sources import (
        airbus_training_images,
        scene_training_images,
        synthetic_training_images,
    )
    from engine.training.train_loop import train

    jitter = _check(args)
    if has_data(args):
        from engine.cli.finetune_run import run_fine_tune

        return run_fine_tune(args, lambda model, budget_s: train_config(args, model, jitter, budget_s), anchor_sizes)
    root = args.dataset
    if root is None:
        from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT

        root = str(DEFAULT_AIRBUS_ROOT)
    if not os.path.isdir(root):
        raise CliError(f"dataset folder not found: {root}")
    gsd = args.gsd or ModelConfig().gsd_m
    synthetic = 48 if args.synthetic is None else args.synthetic
    images = airbus_training_images(root, gsd) + synthetic_training_images(synthetic, 640, args.seed)
    if args.scenes:
        images += scene_training_images(root, gsd, args.scenes, args.seed, os.path.join(args.out, "scenes"))
    boxes = np.concatenate([im.boxes_px for im in images if len(im.boxes_px)])
    init = None
    if args.init is not None and args.anchors == "keep":
        from engine.cli.finetune_run import init_config

        init = init_config(args.init)
    sizes = anchor_sizes(args.anchors or "kmeans", boxes, init)
    print(f"{len(images)} training images ({synthetic} generated, {args.scenes} cluttered scenes), "
          f"{len(boxes)} aircraft; anchors {sizes} px")
    model_config = dataclasses.replace(ModelConfig(), gsd_m=gsd, anchor_sizes_px=sizes)
    budget_s = None if args.time_budget_min is None else 60 * args.time_budget_min
    model = train(train_config(args, model_config, jitter, budget_s), images, log=lambda line: print(line, flush=True))
    onnx_path = os.path.join(args.out, "model.onnx")
    export_onnx(model, onnx_path, model_config, {"training": {"loss": args.loss, "steps": args.steps, "dataset": root}})
    print(f"checkpoint: {os.path.join(args.out, 'checkpoint.pt')}\nonnx: {onnx_path}")
    return 0


def _check(args) -> tuple[float, float]:
    """The options every training run shares, checked before any data is read; returns the scale jitter."""
    if args.crop % 64 or args.crop > MAX_CROP_PX:
        raise CliError(f"--crop must be a multiple of 64 up to {MAX_CROP_PX} px, got {args.crop}"
                       " (the attention block pools to 4 x 4 at stride 16)")
    try:
        jitter = tuple(float(v) for v in args.scale_jitter.split(","))
    except ValueError:
        jitter = ()
    if len(jitter) != 2 or not 0 < jitter[0] <= jitter[1] < math.inf:
        raise CliError(f"--scale-jitter must be 'low,high' with 0 < low <= high, got {args.scale_jitter!r}")
    if args.init is not None and not os.path.isfile(args.init):
        raise CliError(f"--init checkpoint not found: {args.init}")
    if args.init is not None and args.init.lower().endswith(".onnx"):
        raise CliError(f"--init {args.init} is an ONNX model: warm starts take the .pt checkpoint it was exported from")
    if not 0.0 < args.val_fraction < 1.0:
        raise CliError(f"--val-fraction must be between 0 and 1 (exclusive), got {args.val_fraction:g}")
    if args.lr > MAX_LR:
        raise CliError(f"--lr {args.lr:g} is past {MAX_LR:g}: training would diverge")
    if args.steps < 1:
        raise CliError("--steps must be at least 1")
    finished = os.path.join(args.out, "model.onnx")
    if os.path.isfile(finished) and not args.resume:
        raise CliError(f"{args.out} holds a finished run ({finished}): --resume extends it (and replaces its model), "
                       "or give a new --out")
    if args.anchors == "keep" and args.init is None:
        raise CliError("--anchors keep needs --init (the checkpoint whose anchors are kept)")
    return jitter


def train_config(args, model_config: ModelConfig, jitter: tuple[float, float], budget_s: float | None):
    """The TrainConfig these options describe, for this model and training time budget."""
    from engine.training.patch_sampler import SamplerConfig
    from engine.training.train_loop import TrainConfig
    from engine.training.unified_step import LossConfig

    return TrainConfig(
        out_dir=args.out,
        steps=args.steps,
        lr=args.lr,
        time_budget_s=budget_s,
        seed=args.seed,
        threads=args.threads,
        init=args.init,
        bf16=args.bf16,
        loss=LossConfig(use_jol=args.loss == "jol", detector_on_negatives=args.detector_negatives),
        sampler=SamplerConfig(
            crop_px=args.crop,
            positives_per_batch=args.positives,
            negatives_per_batch=3 * args.positives,
            scale_jitter=jitter,
        ),
        model=model_config,
    )
