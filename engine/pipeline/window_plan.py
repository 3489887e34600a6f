"""Pure window planning over the tile grid: G x G neighbouring patches share one trunk pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
