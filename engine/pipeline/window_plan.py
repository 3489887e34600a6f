"""Pure window planning over the tile grid: G x G neighbouring patches share one trunk pass."""

from __future__ import annotations

from collections.abc import Iterator
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


def grid_index(origins_model_px: np.ndarray) -> np.ndarray:
    """(rows, cols) index into the origins of each grid cell, y then x ascending: arithmetic, no lookup table."""
    origins = np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2)
    xs, ys = np.unique(origins[:, 0]), np.unique(origins[:, 1])
    order = np.lexsort((origins[:, 0], origins[:, 1]))
    full = len(origins) == len(xs) * len(ys)
    if not (
        full
        and np.array_equal(origins[order, 0], np.tile(xs, len(ys)))
        and np.array_equal(origins[order, 1], np.repeat(ys, len(xs)))
    ):
        raise ValueError("window planning needs the full grid of tile origins")
    return order.reshape(len(ys), len(xs))


def iter_windows(origins_model_px: np.ndarray, per_window: int, align_px: int) -> Iterator[WindowPlan]:
    """Cover the tile grid (a full product of x and y origins, as tiling.tile_grid makes) with windows,
    one at a time: memory stays that of the origins, whatever the grid's size."""
    origins = np.asarray(origins_model_px, dtype=np.int64).reshape(-1, 2)
    if not len(origins):
        return
    index = grid_index(origins)
    xs, ys = origins[index[0, :], 0].tolist(), origins[index[:, 0], 1].tolist()
    row_groups, col_groups = group_axis(ys, per_window, align_px), group_axis(xs, per_window, align_px)
    row0 = 0
    for row_group in row_groups:
        col0 = 0
        for col_group in col_groups:
            yield WindowPlan(
                x0_model_px=col_group[0],
                y0_model_px=row_group[0],
                col_offsets_px=tuple(x - col_group[0] for x in col_group),
                row_offsets_px=tuple(y - row_group[0] for y in row_group),
                patch_index=index[row0 : row0 + len(row_group), col0 : col0 + len(col_group)],
            )
            col0 += len(col_group)
        row0 += len(row_group)


def plan_windows(origins_model_px: np.ndarray, per_window: int, align_px: int) -> list[WindowPlan]:
    """Every window of iter_windows at once (tests, small grids)."""
    return list(iter_windows(origins_model_px, per_window, align_px))


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
