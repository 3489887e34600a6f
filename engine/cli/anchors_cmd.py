"""`r2cnn anchors`: k-means anchor sizes (R2-CNN Eq. 2) from the training boxes at the model gsd."""

from __future__ import annotations

import dataclasses
import math
import os
import sys

from engine.cli.output_rule import check_run_outputs
from engine.errors import CliError


def register(subparsers) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "anchors",
        help="k-means anchor sizes from the training boxes (Eq. 2)",
        description="1-D k-means on the box scales sqrt(w*h) of the Airbus training split (truncated boxes "
        "excluded) at the model's ground resolution. Without data it falls back to the paper's scales.",
    )
    parser.add_argument(
        "--dataset", metavar="DIR", help="folder in the Airbus form (default: ../shared/datasets/...)"
    )
    parser.add_argument(
        "--split", choices=("train", "all"), default="train", help="boxes to cluster (default train)"
    )
    parser.add_argument(
        "--gsd", type=float, default=2.0, help="model ground resolution in metres (default 2.0)"
    )
    parser.add_argument("-k", type=int, default=6, help="number of anchor sizes (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="k-means++ seed (default 0)")
    parser.add_argument(
        "--write-config", metavar="PATH", help="write a ModelConfig JSON with these anchor sizes"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --write-config file")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Print the box statistics and the sizes; optionally write them into a ModelConfig JSON."""
    from engine.anchors.kmeans_scales import box_scales_px, kmeans_anchor_sizes, scale_stats
    from engine.config import ModelConfig
    from engine.datasets.airbus import (
        DEFAULT_AIRBUS_ROOT,
        SOURCE_GSD_M,
        DatasetError,
        read_annotations,
        split_ids,
    )

    if args.k < 1:
        raise CliError("-k must be at least 1")
    if not args.gsd > 0:
        raise CliError("--gsd must be positive")
    if not math.isfinite(args.gsd):
        raise CliError("--gsd must be a finite number of metres")
    check_run_outputs({"--write-config": args.write_config}, args.overwrite)
    root = args.dataset or str(DEFAULT_AIRBUS_ROOT)
    if args.dataset and not os.path.isdir(args.dataset):
        raise CliError(f"dataset folder not found: {args.dataset}")
    sizes = None
    if os.path.isdir(root):
        try:
            annotations = read_annotations(root)
            ids = split_ids(args.split, root)
        except DatasetError as exc:
            raise CliError(str(exc)) from exc
        factor = SOURCE_GSD_M / args.gsd
        boxes = [annotations[i][0][~annotations[i][1]] * factor for i in ids]
        sizes = box_scales_px(_concat(boxes))
    if sizes is None or sizes.size == 0:
        anchor_sizes = ModelConfig().anchor_sizes_px
        print(f"no boxes found under {root}: using the paper's default anchor sizes", file=sys.stderr)
    else:
        stats = scale_stats(sizes)
        print(
            f"{stats.count} boxes ({args.split} split, truncated excluded) at {args.gsd:g} m, sqrt(w*h): "
            f"min {stats.minimum:.1f}, p10 {stats.p10:.1f}, median {stats.median:.1f}, p90 {stats.p90:.1f}, "
            f"max {stats.maximum:.1f} px"
        )
        try:
            anchor_sizes = tuple(round(s, 2) for s in kmeans_anchor_sizes(sizes, k=args.k, seed=args.seed))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    print("anchor sizes (px): " + ", ".join(f"{s:.2f}" for s in anchor_sizes))
    if args.write_config:
        config = dataclasses.replace(ModelConfig(), gsd_m=args.gsd, anchor_sizes_px=tuple(anchor_sizes))
        _write_atomically(args.write_config, config.to_json() + "\n", args.overwrite)
        print(f"config: {args.write_config}")
    return 0


def _concat(arrays):
    """(N, 4) of all boxes, empty when there are none."""
    import numpy as np

    return np.concatenate(arrays) if arrays else np.zeros((0, 4), dtype=np.float32)


def _write_atomically(path: str, text: str, overwrite: bool) -> None:
    """Temp file in the same folder, then rename: never a half-written config."""
    from engine.atomic_output import atomic_output

    with atomic_output(path, suffix=".json", overwrite=overwrite) as tmp, open(tmp, "w") as out:
        out.write(text)
