"""The training loop: one-cycle schedule, checkpoints with resume, a progress line with loss and ETA."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch

from engine.atomic_output import atomic_output
from engine.config import ModelConfig
from engine.network.checkpoint import load_checkpoint, save_checkpoint
from engine.network.r2cnn import R2CNN, build_r2cnn
from engine.pipeline.scene import patch_fill_value
from engine.training.patch_sampler import PatchSampler, SamplerConfig, TrainingImage
from engine.training.unified_step import LossConfig, unified_loss
from engine.training.warm_start import warm_start

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Everything one run needs; stored next to its checkpoints."""

    out_dir: str = "runs/r2cnn"
    steps: int = 4000
    lr: float = 2e-3
    weight_decay: float = 5e-4
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 100
    time_budget_s: float | None = None  # the schedule ends at whichever comes first: steps or this budget
    init: str | None = None  # warm start: a checkpoint whose weights seed the network (anchors remapped)
    bf16: bool = True  # trunk forward under bfloat16 autocast where the CPU has native bf16 (native_bf16)
    loss: LossConfig = LossConfig()
    sampler: SamplerConfig = SamplerConfig()
    model: ModelConfig = field(default_factory=ModelConfig)


def one_cycle_lr(progress: float, max_lr: float, warmup: float = 0.05) -> float:
    """One-cycle: linear warm-up from max_lr/25, then cosine down to max_lr/1e4, over progress 0..1."""
    if progress < warmup:
        return max_lr * (0.04 + 0.96 * progress / warmup)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))
    return max_lr * (1e-4 + (1 - 1e-4) * cosine)


def train(config: TrainConfig, images: list[TrainingImage], log=print, should_stop=None) -> R2CNN:
    """Train (or resume) and return the model in eval mode; checkpoints land in config.out_dir.

    should_stop() is polled between steps: a stopped run saves a checkpoint and can be resumed.
    """
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    os.makedirs(config.out_dir, exist_ok=True)
    with atomic_output(os.path.join(config.out_dir, "train_config.json"), suffix=".json") as tmp:
        with open(tmp, "w") as handle:
            json.dump(asdict(config), handle, indent=1, default=str)
    model = build_r2cnn(config.model)
    if config.init is not None:
        for note in warm_start(model, config.init):
            log(f"warm start: {note}")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    checkpoint = os.path.join(config.out_dir, CHECKPOINT_NAME)
    start, history, elapsed_before = 0, [], 0.0
    if os.path.exists(checkpoint):
        state = load_checkpoint(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, history = int(state["step"]), json.loads(state["history"])
        elapsed_before = float(state["elapsed_s"])
        log(f"resumed from step {start}")
    bf16 = config.bf16 and native_bf16()
    if config.bf16 and not bf16:
        log("bf16 off: this CPU has no native bfloat16 (emulated bf16 is several times slower than float32)")
    sampler = PatchSampler(images, config.sampler, config.seed + start, patch_fill_value(config.model))
    began, smoothed = time.time(), None

    def progress(step: int) -> float:
        by_steps = step / config.steps
        if config.time_budget_s is None:
            return by_steps
        return max(by_steps, (elapsed_before + time.time() - began) / config.time_budget_s)

    step = start
    while progress(step) < 1.0:
        lr = one_cycle_lr(progress(step), config.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = sampler.next_batch()
        loss, parts = unified_loss(model, batch, config.loss, bf16=bf16)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        sampler.report_negative_losses(batch.negative_keys, parts["gate_per_patch"].tolist())
        value = float(loss.detach())
        smoothed = value if smoothed is None or not math.isfinite(smoothed) else 0.95 * smoothed + 0.05 * value
        step += 1
        finished = progress(step) >= 1.0
        if step % 10 == 0 or finished:
            rate = (time.time() - began) / (step - start)
            eta = rate * step * (1 - progress(step)) / max(progress(step), 1e-9)
            detail = " ".join(f"{k}={float(v.detach()):.3f}" for k, v in parts.items() if v.dim() == 0)
            log(
                f"step {step} ({100 * progress(step):.0f}%) loss={smoothed:.4f} ({detail}) lr={lr:.2e} "
                f"{rate:.2f}s/step eta {eta / 60:.1f} min"
            )
            history.append({"step": step, "loss": smoothed})
        stopping = should_stop is not None and should_stop()
        if step % config.checkpoint_every == 0 or finished or stopping:
            save_checkpoint(
                checkpoint,
                model,
                optimizer=optimizer.state_dict(),
                elapsed_s=elapsed_before + time.time() - began,
                step=step,
                history=json.dumps(history),
            )
        if stopping:
            log(f"stopped at step {step}; resume with the same --out")
            break
    return model.eval()


def native_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively here (AVX-512 BF16 / AMX); on AVX2 it is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
