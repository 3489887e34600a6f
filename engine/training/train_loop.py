"""The training loop: one-cycle schedule, checkpoints with resume, a progress line with loss and ETA."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch

from engine.config import ModelConfig
from engine.network.r2cnn import R2CNN, build_detector
from engine.training.patch_sampler import PatchSampler, SamplerConfig, TrainingImage
from engine.training.unified_step import LossConfig, unified_loss

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
    loss: LossConfig = LossConfig()
    sampler: SamplerConfig = SamplerConfig()
    model: ModelConfig = field(default_factory=ModelConfig)


def _save(path: str, model: R2CNN, optimizer, scheduler, step: int, config: TrainConfig, history: list) -> None:
    """Atomic checkpoint: tensors and plain values only, so resume can load with weights_only=True."""
    state = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "step": step, "model_config": config.model.to_json(), "history": json.dumps(history),
    }
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint_model(path: str) -> R2CNN:
    """Rebuild the network from a checkpoint (weights_only: checkpoints are untrusted input too)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_detector(ModelConfig.from_json(state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval()


def train(config: TrainConfig, images: list[TrainingImage], log=print) -> R2CNN:
    """Train (or resume) and return the model in eval mode; checkpoints land in config.out_dir."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    os.makedirs(config.out_dir, exist_ok=True)
    with open(os.path.join(config.out_dir, "train_config.json"), "w") as handle:
        json.dump(asdict(config), handle, indent=1, default=str)
    model = build_detector(config.model).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.steps, pct_start=0.1)
    checkpoint = os.path.join(config.out_dir, CHECKPOINT_NAME)
    start, history = 0, []
    if os.path.exists(checkpoint):
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, history = int(state["step"]), json.loads(state["history"])
        log(f"resumed from step {start}")
    sampler = PatchSampler(images, config.sampler, seed=config.seed + start)
    began, smoothed = time.time(), None
    for step in range(start, config.steps):
        batch = sampler.next_batch()
        loss, parts = unified_loss(model, batch, config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        scheduler.step()
        sampler.report_negative_losses(batch.negative_keys, parts["gate_per_patch"].tolist())
        value = float(loss)
        smoothed = value if smoothed is None or not math.isfinite(smoothed) else 0.95 * smoothed + 0.05 * value
        done = step + 1
        if done % 10 == 0 or done == config.steps:
            rate = (time.time() - began) / (done - start)
            eta = rate * (config.steps - done)
            detail = " ".join(f"{k}={float(v):.3f}" for k, v in parts.items() if v.dim() == 0)
            log(f"step {done}/{config.steps} loss={smoothed:.4f} ({detail}) lr={scheduler.get_last_lr()[0]:.2e} "
                f"{rate:.2f}s/step eta {eta / 60:.1f} min")
            history.append({"step": done, "loss": smoothed})
        if done % config.checkpoint_every == 0 or done == config.steps:
            _save(checkpoint, model, optimizer, scheduler, done, config, history)
    return model.eval()
