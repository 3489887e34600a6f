"""Models kept loaded in each worker process: a scene borrows one and gives it back, so a worker loads the
model once per thread (a session runs one inference at a time), not once per scene."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from engine.config import DetectConfig
from engine.runtime import load_detector
from engine.runtime.types import Detector

_lock = threading.Lock()
_idle: dict[tuple, list[Detector]] = {}
_loads = 0


def _key(config: DetectConfig, threads: int | None) -> tuple:
    """What makes two loaded models interchangeable."""
    return (
        config.model_path, config.backend, config.device, config.runtime, config.precision,
        config.score_threshold, threads,
    )


@contextmanager
def borrowed_detector(config: DetectConfig, threads: int | None) -> Iterator[Detector]:
    """An idle loaded detector for this model and settings, else a new one; back to the pool after use."""
    global _loads
    key = _key(config, threads)
    with _lock:
        pool = _idle.setdefault(key, [])
        detector = pool.pop() if pool else None
    if detector is None:
        detector = load_detector(
            config.model_path, config.backend, config.device, config.score_threshold, threads,
            precision=config.precision, runtime=config.runtime,
        )
        with _lock:
            _loads += 1
    try:
        yield detector
    finally:
        with _lock:
            _idle[key].append(detector)


def model_loads() -> int:
    """How many models this process has loaded (tests check once per worker thread)."""
    return _loads
