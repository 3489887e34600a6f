"""What one run cost and what it saw (--stats-json, the plugin log), the callbacks it reports through,
and how peak memory is probed."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.errors import DetectionCancelled

READ_PROGRESS_START, READ_PROGRESS_END = 5.0, 95.0  # 0..5: model + stretch, 95..100: merge + georef


@dataclass(frozen=True)
class RunStats:
    """What one run cost and what it saw; written by --stats-json and shown by the plugin."""

    source: str
    device: str
    gated: bool
    gate_threshold: float
    score_threshold: float  # what the run kept
    model_score_threshold: float  # the model's recommended one (where the plugin's slider starts)
    raster_size_px: tuple[int, int]  # (width, height)
    gsd_raster_m: tuple[float, float]  # (x, y) ground size of a raster pixel
    gsd_model_m: float
    tile_size_px: int
    overlap: float
    batch_size: int
    patches_total: int
    patches_skipped_nodata: int  # all nodata or a single value: never reached the network
    patches_passed_gate: int  # went through the detector (all non-skipped ones with --no-gate)
    detections_before_merge: int
    detections: int
    stage_seconds: dict[str, float]
    peak_rss_mb: float | None
    notes: tuple[str, ...] = ()
    patches_prescreened: int = 0  # of the skipped ones: known empty from the decimated mask, never read
    window_patches: int = 0  # patches per window side on the window path (0: per patch)
    windows: int = 0  # window-graph calls
    model_file: str = ""  # the model's file name (which bundled precision ran, when none was given)
    runtime: str = ""  # which library ran it: onnxruntime / openvino / torch
    precision: str = ""  # the arithmetic that ran: int8 / fp32 / bf16
    stretch: str = ""  # the 8-bit mapping that ran: local / percentile / divide4 / none (8-bit input: none)
    cascade: bool = False  # the first look decided which patches ran the trunk
    cascade_threshold: float | None = None
    patches_cascade_passed: int | None = None  # None: no cascade ran
    stage_passes: dict[str, int] = field(default_factory=dict)  # patches left after each stage, in order

    def to_dict(self) -> dict:
        """JSON-ready."""
        return dataclasses.asdict(self)


@dataclass
class RunMonitor:
    """Callbacks, stage timers and the cancellation checks of one run."""

    progress: Callable[[float], None] | None = None
    should_stop: Callable[[], bool] | None = None
    log: Callable[[str], None] | None = None
    stages: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def check_stop(self) -> None:
        """Cancellation point: nothing has been written yet, so stopping here leaves nothing behind."""
        if self.should_stop is not None and self.should_stop():
            raise DetectionCancelled("detection cancelled")

    def report(self, percent: float) -> None:
        if self.progress is not None:
            self.progress(percent)

    def say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)

    def warn(self, notes: list[str]) -> None:
        for note in notes:
            self.say(f"warning: {note}")

    def on_patch(self, total: int) -> Callable[[int], None]:
        """After each patch: progress across READ_PROGRESS_START..END, then the cancellation check."""
        span = READ_PROGRESS_END - READ_PROGRESS_START

        def done(count: int) -> None:
            self.report(READ_PROGRESS_START + span * count / max(1, total))
            self.check_stop()

        return done

    @contextmanager
    def timed(self, name: str):
        """Add the block's wall time to stages[name]."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    def stage_seconds(self, extra: dict[str, float]) -> dict[str, float]:
        """Every stage so far plus the stream's own timers and the total, rounded for the report."""
        stages = {**self.stages, **extra, "total": time.perf_counter() - self.started}
        return {k: round(v, 4) for k, v in stages.items()}


def stage_passes(total: int, counts, cascaded: bool, detections: int) -> dict[str, int]:
    """Patches that went on after each stage, in order (stage_seconds has each stage's time)."""
    data = total - counts.prescreened
    passes = {"grid": total, "prescreen": data}
    if cascaded:
        passes["cascade"] = data - counts.cascade_rejected
    passes["trunk"] = total - counts.skipped - counts.cascade_rejected  # read and not flat: the trunk ran
    passes["gate"] = counts.passed
    passes["detections"] = detections
    return passes


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far (None where the platform cannot tell).

    Linux: VmHWM, the high-water mark of this process image (getrusage's ru_maxrss would also count
    the parent's memory at fork for a process started with exec, e.g. the benchmark's runs).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0, 1)
