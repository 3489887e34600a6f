"""`r2cnn train --data ... --init ...`: fine-tuning on the user's labelled rasters. A seeded part of the data
is held out; the --init model is measured on it first (which also sizes the evaluation's share of the time
budget), then training, ONNX export with thresholds calibrated on the held-out part, and both models
compared on that same part. Training and evaluation meet here only (the CLI layer may use both)."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time

from engine.errors import CliError, first_line

EVALUATION_PASSES = 4  # calibration runs about this many evaluations of the held-out part (dense, gate, gated, off)
MIN_TRAINING_SHARE = 0.25  # of the budget, whatever the evaluation needs


def run_fine_tune(args, train_config, anchor_sizes) -> int:
    """train_config(model_config, budget_s) -> TrainConfig; anchor_sizes(choice, boxes, init) -> sizes."""
    import numpy as np

    from engine.config import DetectConfig, ModelConfig
    from engine.datasets.readers import read_labelled
    from engine.errors import R2cnnError
    from engine.training.holdout import (
        HoldoutConfig,
        describe,
        plan_blocks,
        split_holdout,
        training_images,
        validation_images,
    )

    started = time.time()
    try:
        from engine.cli.data_args import label_source

        data = read_labelled(label_source(args))
        for note in dict.fromkeys(data.all_notes()):
            print(f"warning: {note}")
        init = init_config(args.init) if args.init else None
        base = init or ModelConfig()
        base = dataclasses.replace(base, gsd_m=args.gsd or base.gsd_m)
        detect = DetectConfig(stretch=args.stretch)
        holdout_config = HoldoutConfig(fraction=args.val_fraction, seed=args.seed)
        holdout = split_holdout(plan_blocks(data, base, holdout_config, detect), holdout_config)
        print(describe(holdout, data))
        _record_split(args.out, holdout.to_dict(data))
        images = training_images(data, holdout.train, base, detect)
        validation = validation_images(data, holdout.val, base, detect)
    except R2cnnError as exc:
        raise CliError(str(exc)) from exc
    if args.synthetic:
        from engine.training.data_sources import synthetic_training_images

        images += synthetic_training_images(args.synthetic, 640, args.seed)
    boxes = np.concatenate([im.boxes_px for im in images if len(im.boxes_px)])
    choice = args.anchors or ("keep" if init is not None else "kmeans")
    model_config = dataclasses.replace(base, anchor_sizes_px=anchor_sizes(choice, boxes, init))
    print(f"{len(images)} training blocks ({args.synthetic or 0} generated), {len(boxes)} aircraft; "
          f"anchors ({choice}) {model_config.anchor_sizes_px} px")
    baseline, eval_s = None, 0.0
    if args.init:
        tick = time.time()
        baseline = _evaluate_init(args.init, validation)
        eval_s = time.time() - tick
        print(f"--init on the held-out part: AP50 {_num(baseline.detection.ap50)} ({eval_s:.0f} s)")
    budget_s = _training_budget(args.time_budget_min, time.time() - started, eval_s)
    model = _train(train_config(model_config, budget_s), images)
    init_score = None if init is None else float(init.score_threshold)
    return _export_and_compare(args, model, model_config, validation, (baseline, init_score), data.description,
                               started)


def init_config(path: str):
    """The --init checkpoint's configuration (its gsd, normalisation, anchors, thresholds)."""
    from engine.config import ModelConfig
    from engine.network.checkpoint import load_checkpoint

    try:
        return ModelConfig.from_json(load_checkpoint(path)["model_config"])
    except Exception as exc:  # a hostile or broken file: say so in one line
        raise CliError(f"--init {path} is not an r2cnn checkpoint ({first_line(exc, 120)})") from exc


def _record_split(out_dir: str, split: dict) -> None:
    """split.json in the run folder; a resumed run must hold out the same blocks."""
    from engine.atomic_output import atomic_output

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "split.json")
    if os.path.exists(path):
        with open(path) as handle:
            if json.load(handle) != split:
                raise CliError(f"{path} holds another hold-out split (other data, --seed or --val-fraction): "
                               "use a new --out")
        return
    with atomic_output(path, suffix=".json") as tmp, open(tmp, "w") as handle:
        json.dump(split, handle, indent=1)


def _training_budget(budget_min: float | None, spent_s: float, eval_s: float) -> float | None:
    """The training share of --time-budget-min: what is left after reading and the evaluations to come."""
    if budget_min is None:
        return None
    total = 60.0 * budget_min
    left = total - spent_s - EVALUATION_PASSES * eval_s
    budget = max(MIN_TRAINING_SHARE * total, left)
    print(f"time budget {budget_min:g} min: {budget / 60:.1f} min of training, "
          f"{(total - budget) / 60:.1f} min for reading, evaluation and export")
    return budget


def _draft_detector(model, folder: str, name: str):
    """The model exported as r2cnn detect loads it (per-patch ONNX graph), on the CPU, every box >= 0.05."""
    from engine.evaluation.metrics import MIN_SCORE
    from engine.export.onnx_export import export_onnx
    from engine.runtime.onnx_runtime import OnnxDetector

    path = os.path.join(folder, name)
    export_onnx(model, path, model.config, {})
    return OnnxDetector(path, device="cpu", min_score=MIN_SCORE)


def _evaluate_init(path: str, validation):
    """The --init model on the held-out part at its own thresholds, through the deployed pipeline with the
    torch runtime (its parity with the exported graph is tested; no tracing needed for a baseline)."""
    from engine.evaluation.evaluate import evaluate_detector
    from engine.evaluation.labelled_scoring import thresholds_with
    from engine.evaluation.metrics import MIN_SCORE
    from engine.network.checkpoint import load_checkpoint_model
    from engine.runtime.torch_runtime import TorchDetector

    try:
        model = load_checkpoint_model(path)
    except Exception as exc:
        raise CliError(f"--init {path}: {first_line(exc, 160)}") from exc
    detector = TorchDetector(model, device="cpu", min_score=MIN_SCORE)
    config = model.config
    return evaluate_detector(detector, validation, config.gate_threshold, thresholds_with(config.score_threshold))


def _train(config, images):
    """The training loop, one line per logged step."""
    from engine.training.train_loop import train

    return train(config, images, log=lambda line: print(line, flush=True))


def _export_and_compare(args, model, model_config, validation, baseline, source: str, started: float) -> int:
    """Calibrate on the held-out part, export model.onnx with the thresholds, print and save the comparison."""
    from engine.evaluation.calibrate import calibrate
    from engine.export.onnx_export import restamp_onnx

    onnx_path = os.path.join(args.out, "model.onnx")
    init_report, init_score = baseline
    with tempfile.TemporaryDirectory() as folder:
        model.config = model_config
        result = calibrate(_draft_detector(model, folder, "draft.onnx"), validation, [])
        config = dataclasses.replace(model_config, score_threshold=result.score_threshold,
                                     gate_threshold=round(result.gate_threshold, 4))
        rows = [] if init_report is None else [
            _row(f"--init {os.path.basename(args.init)}", init_report, init_score, args.init)]
        rows.append(_row("fine-tuned", result.validation, config.score_threshold, onnx_path))
        metadata = {
            "training": {"data": source, "init": args.init, "steps": args.steps,
                         "held_out": f"{len(validation)} blocks"},
            "validation_metrics": {"held_out_part": result.validation.to_dict(), "comparison": rows},
            "licence": _licence(args.init),
        }
        restamp_onnx(os.path.join(folder, "draft.onnx"), onnx_path, config, metadata)  # the graph measured
    model.config = config
    _write_json(os.path.join(args.out, "comparison.json"), {"data": source, "rows": rows})
    print(f"\nheld-out part ({len(validation)} blocks, never trained on; the fine-tuned model's thresholds are chosen "
          "on it, so its recall / precision are optimistic, AP50 is not):")
    print(_table(rows))
    print(f"checkpoint: {os.path.join(args.out, 'checkpoint.pt')}\nonnx: {onnx_path} (score threshold "
          f"{config.score_threshold}, gate threshold {config.gate_threshold}); {(time.time() - started) / 60:.1f} min")
    return 0


def _row(name: str, report, score_threshold: float, model: str) -> dict:
    """A comparison row: AP50 and max recall, then recall / precision / F1 at the model's score threshold."""
    chosen = min(report.detection.rows, key=lambda r: abs(r.score_threshold - score_threshold))
    errors = chosen.tp + chosen.fp + chosen.fn
    values = {"ap50": report.detection.ap50, "max_recall": report.detection.max_recall, "recall": chosen.recall,
              "precision": chosen.precision, "f1": 2 * chosen.tp / (2 * chosen.tp + chosen.fp + chosen.fn)
              if errors else None}
    return {"model": name, "file": model, "score_threshold": score_threshold, "tp": chosen.tp, "fp": chosen.fp,
            "fn": chosen.fn, **{k: None if v is None or v != v else float(v) for k, v in values.items()}}


def _table(rows: list[dict]) -> str:
    """The comparison as text."""
    lines = [f"{'model':<32} {'AP50':>7} {'max R':>7} {'score':>6} {'recall':>7} {'prec.':>7} {'F1':>7} "
             f"{'TP':>5} {'FP':>5} {'FN':>5}"]
    for r in rows:
        lines.append(f"{r['model'][:32]:<32} {_num(r['ap50'])} {_num(r['max_recall'])} {r['score_threshold']:>6.2f} "
                     f"{_num(r['recall'])} {_num(r['precision'])} {_num(r['f1'])} {r['tp']:>5} {r['fp']:>5} "
                     f"{r['fn']:>5}")
    return "\n".join(lines)


def _num(value) -> str:
    return "      -" if value is None or value != value else f"{value:>7.4f}"


def _licence(init: str | None) -> str:
    """What the fine-tuned model inherits."""
    from engine.cli.export_cmd import AIRBUS_LICENCE

    own = "Fine-tuned on the user's own labelled data."
    return f"{own} Warm-started from {os.path.basename(init)}: {AIRBUS_LICENCE}" if init else own


def _write_json(path: str, payload: dict) -> None:
    from engine.atomic_output import atomic_output

    with atomic_output(path, suffix=".json") as tmp, open(tmp, "w") as handle:
        json.dump(payload, handle, indent=1)
