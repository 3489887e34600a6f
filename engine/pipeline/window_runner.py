"""The scene's patches read and run as windows of G x G overlapping patches (one trunk pass each):
same tile grid, same per-patch outputs and merge as patch_runner, a third less trunk work at 20 %."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.pipeline.patch_runner import CandidateCollector, Candidates, PatchCounts
from engine.pipeline.raster_reader import RasterScene, patch_emptiness
from engine.pipeline.read_ahead import ReadAhead

READ_AHEAD_WINDOWS = 2


@dataclass(frozen=True)
class WindowPlan:
    """A rectangle of the tile grid: the patches whose origins are x0 + col_offsets, y0 + row_offsets."""

    x0_model_px: int
    y0_model_px: int
    col_offsets_px: tuple[int, ...]
    row_offsets_px: tuple[int, ...]
    patch_index: np.ndarray  # (rows, cols) indices into the tile origins

    def size_xy_px(self, tile_px: int) -> tuple[int, int]:
        return self.col_offsets_px[-1] + tile_px, self.row_offsets_px[-1] + tile_px


def group_axis(origins_px: list[int], per_window: int, align_px: int) -> list[list[int]]:
    """Consecutive origins along one axis, at most per_window per group, all congruent mod align_px to
    the group's first (a last patch flush with the scene edge may start a group of its own)."""
    groups: list[list[int]] = []
    for origin in origins_px:
        current = groups[-1] if groups else None
        if current is None or len(current) == per_window or (origin - current[0]) % align_px:
            groups.append([origin])
        else:
            current.append(origin)
    return groups


def plan_windows(origins_model_px: np.ndarray, per_window: int, align_px: int) -> list[WindowPlan]:
    """Cover the tile grid (a full product of x and y origins, as tiling.tile_grid makes) with windows."""
    origins = np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2)
    index_of = {(int(x), int(y)): i for i, (x, y) in enumerate(origins)}
    xs = sorted({int(x) for x in origins[:, 0]})
    ys = sorted({int(y) for y in origins[:, 1]})
    if len(index_of) != len(xs) * len(ys):
        raise ValueError("window planning needs the full grid of tile origins")
    plans = []
    for row_group in group_axis(ys, per_window, align_px):
        for col_group in group_axis(xs, per_window, align_px):
            index = np.array([[index_of[(x, y)] for x in col_group] for y in row_group], dtype=np.int64)
            plans.append(
                WindowPlan(
                    x0_model_px=col_group[0],
                    y0_model_px=row_group[0],
                    col_offsets_px=tuple(x - col_group[0] for x in col_group),
                    row_offsets_px=tuple(y - row_group[0] for y in row_group),
                    patch_index=index,
                )
            )
    return plans


def run_windows(
    scene: RasterScene,
    detector,
    origins_model_px: np.ndarray,
    tile_px: int,
    gate_threshold: float,
    per_window: int,
    on_patch: Callable[[int], None],
    prescreened: np.ndarray | None = None,
) -> tuple[Candidates, PatchCounts]:
    """Read each window once (ahead of the network), drop empty patch rows/columns, one window-graph call.

    detector is an OnnxWindowDetector; prescreened (T,) bool marks patches known to be nodata: their
    rows and columns are trimmed from the windows before the read (a window of nothing else is never
    read), the others are checked on the read pixels. on_patch(done) as in patch_runner.run_patches.
    """
    collector = CandidateCollector(scene.scale_xy)
    counts = PatchCounts()
    prescreened = np.zeros(len(origins_model_px), bool) if prescreened is None else prescreened
    plans = plan_windows(origins_model_px, per_window, detector.offset_align_px)
    to_read = [trimmed for trimmed in (trim_plan(plan, prescreened) for plan in plans) if trimmed is not None]
    counts.prescreened = int(prescreened.sum())
    counts.skipped = done = len(origins_model_px) - sum(plan.patch_index.size for plan in to_read)
    if done:
        on_patch(done)
    network_seconds = 0.0

    def read(plan: WindowPlan):
        values, valid = scene.read_region_u8((plan.x0_model_px, plan.y0_model_px), plan.size_xy_px(tile_px))
        return values, _live_patches(plan, values, valid, tile_px, prescreened)

    with ReadAhead(read, to_read, READ_AHEAD_WINDOWS) as reader:
        for position, (values, live) in reader:
            plan = to_read[position]
            counts.skipped += int(plan.patch_index.size - live.sum())
            rows, cols = np.flatnonzero(live.any(axis=1)), np.flatnonzero(live.any(axis=0))
            if len(rows) and len(cols):
                started = time.perf_counter()
                result = _run_window(detector, plan, values, rows, cols, tile_px, gate_threshold)
                network_seconds += time.perf_counter() - started
                counts.windows += 1
                flat = [(r, c) for r in rows for c in cols]
                for (r, c), gate_score, patch in zip(flat, result.gate_scores, result.detections, strict=True):
                    if not live[r, c]:
                        continue  # computed with its neighbours, but empty: skipped as in the per-patch path
                    counts.passed += int(gate_score >= gate_threshold)
                    collector.add(origins_model_px[plan.patch_index[r, c]], gate_score, patch)
            done += plan.patch_index.size
            on_patch(done)
    counts.seconds = {"read": reader.read_seconds, "read_wait": reader.wait_seconds, "network": network_seconds}
    return collector.candidates(), counts


def trim_plan(plan: WindowPlan, prescreened: np.ndarray) -> WindowPlan | None:
    """The plan without its patch rows and columns known to be nodata (None: nothing left to read)."""
    keep = ~prescreened[plan.patch_index]
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    if not len(rows):
        return None
    row_offsets = [plan.row_offsets_px[r] for r in rows]
    col_offsets = [plan.col_offsets_px[c] for c in cols]
    return WindowPlan(
        x0_model_px=plan.x0_model_px + col_offsets[0],
        y0_model_px=plan.y0_model_px + row_offsets[0],
        col_offsets_px=tuple(x - col_offsets[0] for x in col_offsets),
        row_offsets_px=tuple(y - row_offsets[0] for y in row_offsets),
        patch_index=plan.patch_index[np.ix_(rows, cols)],
    )


def _live_patches(plan: WindowPlan, values: np.ndarray, valid: np.ndarray, tile_px: int, prescreened) -> np.ndarray:
    """(rows, cols) bool: the window's patches that hold data (the per-patch path's skip rule)."""
    live = np.zeros(plan.patch_index.shape, dtype=bool)
    for r, y in enumerate(plan.row_offsets_px):
        for c, x in enumerate(plan.col_offsets_px):
            if prescreened[plan.patch_index[r, c]]:
                continue
            window = (slice(y, y + tile_px), slice(x, x + tile_px))
            skip, _ = patch_emptiness(values[(slice(None), *window)], valid[window])
            live[r, c] = not skip
    return live


def _run_window(detector, plan: WindowPlan, values: np.ndarray, rows, cols, tile_px: int, gate_threshold: float):
    """The window cropped to the live rows and columns, grey seen as three channels, through the graph."""
    row_offsets = np.asarray(plan.row_offsets_px, dtype=np.int64)[rows]
    col_offsets = np.asarray(plan.col_offsets_px, dtype=np.int64)[cols]
    y0, x0 = int(row_offsets[0]), int(col_offsets[0])
    crop = values[:, y0 : int(row_offsets[-1]) + tile_px, x0 : int(col_offsets[-1]) + tile_px]
    channels = detector.config.in_channels
    window = np.broadcast_to(crop, (channels, *crop.shape[1:])) if crop.shape[0] == 1 else crop
    return detector.run_windows(window[None], row_offsets - y0, col_offsets - x0, gate_threshold)
