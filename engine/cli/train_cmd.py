"""`r2cnn train`: train R2-CNN on Airbus-form data (+ generated scenes), then export ONNX."""

from __future__ import annotations

import dataclasses
import os

from engine.config import ModelConfig
from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    p = subparsers.add_parser("train", help="train the network (checkpoints and resume in --out)")
    p.add_argument(
        "--dataset", default=None, help="folder in the Airbus form (default: ../shared/datasets/airbus-aircraft)"
    )
    p.add_argument("--gsd", type=float, default=2.0, help="model ground resolution in metres (default 2.0)")
    p.add_argument("--loss", choices=("unified", "jol"), default="jol", help="unified loss (Eq. 1) or with JOL weights")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--time-budget-min", type=float, default=None, help="end the schedule after this wall time")
    p.add_argument("--crop", type=int, default=320, help="training crop in px (multiple of 64)")
    p.add_argument("--positives", type=int, default=2, help="positive crops per batch (negatives: 3x)")
    p.add_argument("--synthetic", type=int, default=48, help="generated scenes mixed into training")
    p.add_argument("--anchors", default="kmeans", help="kmeans (Eq. 2 on the training boxes), paper, or sizes 'a,b,c'")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/r2cnn", help="run folder: checkpoint.pt, model.onnx (resumes if present)")
    p.set_defaults(func=run)


def anchor_sizes(choice: str, boxes_px) -> tuple[float, ...]:
    """The anchor sizes the RPN uses: k-means on the training boxes by default."""
    if choice == "paper":
        return ModelConfig().anchor_sizes_px
    if choice == "kmeans":
        import numpy as np

        from engine.anchors.kmeans_scales import kmeans_anchor_sizes

        sizes = np.sqrt(np.prod(boxes_px[:, 2:] - boxes_px[:, :2], axis=1))
        return tuple(round(float(s), 2) for s in kmeans_anchor_sizes(sizes, k=6, seed=0))
    return tuple(float(v) for v in choice.split(","))


def run(args) -> int:
    """Load data, pick anchors, train (or resume), export the ONNX model next to the checkpoint."""
    import numpy as np

    from engine.export.onnx_export import export_onnx
    from engine.training.data_sources import airbus_training_images, synthetic_training_images
    from engine.training.patch_sampler import SamplerConfig
    from engine.training.train_loop import TrainConfig, train
    from engine.training.unified_step import LossConfig

    if args.crop % 64:
        raise CliError("--crop must be a multiple of 64 (the attention block pools to 4 x 4 at stride 16)")
    root = args.dataset
    if root is None:
        from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT

        root = str(DEFAULT_AIRBUS_ROOT)
    if not os.path.isdir(root):
        raise CliError(f"dataset folder not found: {root}")
    images = airbus_training_images(root, args.gsd) + synthetic_training_images(args.synthetic, 640, args.seed)
    boxes = np.concatenate([im.boxes_px for im in images if len(im.boxes_px)])
    sizes = anchor_sizes(args.anchors, boxes)
    print(f"{len(images)} training images ({args.synthetic} generated), {len(boxes)} aircraft; anchors {sizes} px")
    model_config = dataclasses.replace(ModelConfig(), gsd_m=args.gsd, anchor_sizes_px=sizes)
    config = TrainConfig(
        out_dir=args.out,
        steps=args.steps,
        lr=args.lr,
        time_budget_s=None if args.time_budget_min is None else 60 * args.time_budget_min,
        seed=args.seed,
        threads=args.threads,
        loss=LossConfig(use_jol=args.loss == "jol"),
        sampler=SamplerConfig(
            crop_px=args.crop, positives_per_batch=args.positives, negatives_per_batch=3 * args.positives
        ),
        model=model_config,
    )
    model = train(config, images, log=lambda line: print(line, flush=True))
    onnx_path = os.path.join(args.out, "model.onnx")
    export_onnx(model, onnx_path, model_config, {"training": {"loss": args.loss, "steps": args.steps, "dataset": root}})
    print(f"checkpoint: {os.path.join(args.out, 'checkpoint.pt')}\nonnx: {onnx_path}")
    return 0
