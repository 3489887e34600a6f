"""The one patch stream: a scene's tile grid read ahead, empty patches skipped, gate + detector per batch
of patches (or per window of G x G patches for a window-graph model), boxes collected in raster px.

detect_raster, evaluation, calibration and the bench all run scenes through here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ModelOutputError, R2cnnError, first_line
from engine.pipeline.candidates import CandidateCollector, Candidates
from engine.pipeline.read_ahead import ReadAhead
from engine.pipeline.scene import Scene, patch_emptiness
from engine.pipeline.sparse_windows import sparse_windows
from engine.pipeline.tiling import tile_stride_px
from engine.pipeline.window_plan import WindowPlan, iter_windows, trim_plan
from engine.runtime.types import BatchResult, Detector

READ_AHEAD_WINDOWS = 2


@dataclass
class PatchCounts:
    """What happened to the patches, and where the time went."""

    skipped: int = 0  # all nodata or a single value: never reached the network
    prescreened: int = 0  # of those, skipped from the decimated nodata mask without being read
    cascade_rejected: int = 0  # not nodata, but the cascade's first look passed them: never read at full size
    passed: int = 0  # went through the detector (gate score >= threshold)
    windows: int = 0  # window-graph calls (0: the per-patch path)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamResult:
    """The stream's boxes, counts, and every patch's gate score (NaN: never reached the network)."""

    candidates: Candidates
    counts: PatchCounts
    gate_scores: np.ndarray  # (T,) per tile origin


@dataclass(frozen=True)
class StreamPlan:
    """How the tile grid goes through the network."""

    tile_px: int
    gate_threshold: float
    per_window: int = 0  # > 1: windows of per_window x per_window patches (a window-graph model)
    batch_size: int = 4  # patches per call on the per-patch path
    overlap: float = 0.2  # the grid's (sparse windows weigh a window's cost by its stride)


def stream_patches(
    scene: Scene,
    detector: Detector,
    origins_model_px: np.ndarray,
    plan: StreamPlan,
    on_patch: Callable[[int], None] | None = None,
    prescreened: np.ndarray | None = None,
    selected: np.ndarray | None = None,
) -> StreamResult:
    """Read ahead -> drop empty patches -> one network call per batch or window -> boxes in raster px.

    prescreened (T,) bool marks patches known to be nodata (prescreen.nodata_patches): never read (a
    window's rows and columns of them are trimmed before the read). selected (T,) bool: the patches the
    cascade passed; only they are read and run, in sparse windows (sparse_windows: each exactly once).
    on_patch(done) runs after each patch or window is handled: progress and the cancellation check live there.
    """
    run = _Stream(scene, detector, np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2), plan)
    on_patch = on_patch or (lambda _done: None)
    prescreened = np.zeros(len(run.origins), bool) if prescreened is None else np.asarray(prescreened, bool)
    windowed = plan.per_window > 1
    # One window at a time (never a list of them): the grid's memory is its origins, whatever its size.
    windows = iter_windows(run.origins, *window_grouping(plan, detector))
    run.counts.prescreened = int(prescreened.sum())
    if selected is None:
        items = ((window.patch_index.size, window) for window in windows)
    else:
        run.selected = np.asarray(selected, bool) & ~prescreened
        run.counts.cascade_rejected = int((~run.selected & ~prescreened).sum())
        items = sparse_windows(windows, run.selected, tile_stride_px(plan.tile_px, plan.overlap), plan.tile_px)
    done = 0
    depth = READ_AHEAD_WINDOWS if windowed else 2 * max(1, plan.batch_size)
    with ReadAhead(lambda item: run.read(*item, prescreened), items, depth) as reader:
        for _, (size, window, values, live) in reader:
            run.counts.skipped += size - (int(live.sum()) if window is not None else 0)
            if window is not None and windowed:
                run.window(window, values, live)
            elif window is not None and live[0, 0]:
                run.pending.append((int(window.patch_index[0, 0]), run.as_channels(values)))
            if len(run.pending) >= plan.batch_size:
                run.flush()
            done += size
            on_patch(done)
        if run.pending:
            run.flush()
    run.counts.skipped -= run.counts.cascade_rejected  # counted as not live above, but they hold data
    run.counts.seconds = {"read": reader.read_seconds, "read_wait": reader.wait_seconds, "network": run.seconds}
    return StreamResult(run.collector.candidates(), run.counts, run.gate_scores)


def window_grouping(plan: StreamPlan, detector: Detector) -> tuple[int, int]:
    """(patches per window side, origin alignment in px) by which the stream groups the tile grid (1, 1: per patch)."""
    if plan.per_window > 1:
        return plan.per_window, int(detector.offset_align_px)
    return 1, 1


def check_batch_result(result: BatchResult, count: int) -> str | None:
    """What is wrong with a detector's answer for `count` patches, or None."""
    gate_scores = np.asarray(result.gate_scores)
    if gate_scores.shape != (count,) or len(result.detections) != count:
        return f"{gate_scores.shape} gate scores and {len(result.detections)} detections for {count} patches"
    for found in result.detections:
        boxes, scores = np.asarray(found.boxes_patch_px), np.asarray(found.scores)
        if boxes.ndim != 2 or boxes.shape[1:] != (4,) or scores.shape != (len(boxes),):
            return f"boxes {boxes.shape} with scores {scores.shape} (expected (D, 4) and (D,))"
    return None


class _Stream:
    """State of one stream: counts, collected boxes, gate scores, the batch being filled."""

    def __init__(self, scene: Scene, detector: Detector, origins: np.ndarray, plan: StreamPlan):
        self.scene, self.detector, self.origins, self.plan = scene, detector, origins, plan
        self.collector = CandidateCollector(scene.scale_xy)
        self.counts = PatchCounts()
        self.gate_scores = np.full(len(origins), np.nan)
        self.pending: list[tuple[int, np.ndarray]] = []
        self.seconds = 0.0
        self.channels = int(detector.config.in_channels)
        self.selected: np.ndarray | None = None  # (T,) the cascade's passes; None: every patch

    def read(self, size: int, full: WindowPlan | None, prescreened: np.ndarray) -> tuple:
        """(patches accounted for, the window trimmed of prescreened rows / columns or None, its (bands, h, w)
        uint8 and which of its patches hold data and were selected): the read-ahead thread's work."""
        window = None if full is None else trim_plan(full, prescreened)
        if window is None:
            return size, None, None, None
        values, valid = self.scene.read_region_u8(
            (window.x0_model_px, window.y0_model_px), window.size_xy_px(self.plan.tile_px)
        )
        live = self._live(window, values, valid)
        return size, window, values, live if self.selected is None else live & self.selected[window.patch_index]

    def _live(self, window: WindowPlan, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(rows, cols) bool: the window's patches that hold data (patch_emptiness, the one rule)."""
        tile = self.plan.tile_px
        live = np.zeros(window.patch_index.shape, dtype=bool)
        for r, y in enumerate(window.row_offsets_px):
            for c, x in enumerate(window.col_offsets_px):
                cut = (slice(y, y + tile), slice(x, x + tile))
                live[r, c] = not patch_emptiness(values[(slice(None), *cut)], valid[cut])[0]
        return live

    def as_channels(self, values: np.ndarray) -> np.ndarray:
        """Grey seen as the model's channels (a read-only view; stacking copies it)."""
        return np.broadcast_to(values, (self.channels, *values.shape[1:])) if values.shape[0] == 1 else values

    def _call(self, count: int, call: Callable[[], BatchResult]) -> BatchResult:
        """One timed network call that must answer for `count` patches; a model whose outputs break the
        contract (indices out of range, wrong shapes) is a ModelOutputError naming its file, not a traceback."""
        started = time.perf_counter()
        try:
            result = call()
        except ModelOutputError as exc:
            raise ModelOutputError(f"{self._model_name()}: invalid model outputs ({exc})") from exc
        except (R2cnnError, MemoryError):
            raise
        except Exception as exc:  # ONNX Runtime's own errors derive from Exception only
            detail = first_line(exc)
            raise ModelOutputError(f"{self._model_name()}: invalid model outputs or a failed run ({detail})") from exc
        self.seconds += time.perf_counter() - started
        problem = check_batch_result(result, count)
        if problem:
            raise ModelOutputError(f"{self._model_name()}: invalid model outputs ({problem})")
        return result

    def _model_name(self) -> str:
        return str(getattr(self.detector, "model_path", "") or "the model")

    def _record(self, index: int, gate_score: float, detections) -> None:
        self.gate_scores[index] = float(gate_score)
        self.counts.passed += int(gate_score >= self.plan.gate_threshold)
        self.collector.add(index, self.origins[index], gate_score, detections)

    def flush(self) -> None:
        """The pending patches through the network in one batch."""
        images = np.stack([image for _, image in self.pending])
        result = self._call(len(self.pending), lambda: self.detector(images, self.plan.gate_threshold))
        for (index, _), gate_score, found in zip(self.pending, result.gate_scores, result.detections, strict=True):
            self._record(index, gate_score, found)
        self.pending.clear()

    def window(self, window: WindowPlan, values: np.ndarray, live: np.ndarray) -> None:
        """The window cropped to its live rows and columns, through the window graph in one call."""
        rows, cols = np.flatnonzero(live.any(axis=1)), np.flatnonzero(live.any(axis=0))
        if not (len(rows) and len(cols)):
            return
        row_offsets = np.asarray(window.row_offsets_px, dtype=np.int64)[rows]
        col_offsets = np.asarray(window.col_offsets_px, dtype=np.int64)[cols]
        y0, x0, tile = int(row_offsets[0]), int(col_offsets[0]), self.plan.tile_px
        crop = self.as_channels(values[:, y0 : int(row_offsets[-1]) + tile, x0 : int(col_offsets[-1]) + tile])
        result = self._call(
            len(rows) * len(cols),
            lambda: self.detector.run_windows(crop[None], row_offsets - y0, col_offsets - x0, self.plan.gate_threshold),
        )
        self.counts.windows += 1
        flat = [(r, c) for r in rows for c in cols]
        for (r, c), gate_score, found in zip(flat, result.gate_scores, result.detections, strict=True):
            if live[r, c]:  # computed with its neighbours, but empty: skipped as on the per-patch path
                self._record(int(window.patch_index[r, c]), gate_score, found)
