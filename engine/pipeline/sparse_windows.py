"""Windows planned over the patches the cascade passed only: each window of the full plan (window_plan)
is cut into the rectangles of passed patches that cost the trunk the fewest pixels, so every passed patch
is in exactly one window and a lone passed patch runs alone, not with eight empty neighbours."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

from engine.pipeline.window_plan import WindowPlan

CALL_COST_PATCHES = 0.25  # a network call's fixed cost, in patches' worth of trunk pixels


def window_cost(rows: int, cols: int, stride_px: int, tile_px: int) -> float:
    """Trunk pixels of an r x c window (overlapping patches share theirs), plus a call's fixed cost."""
    side_y, side_x = (rows - 1) * stride_px + tile_px, (cols - 1) * stride_px + tile_px
    return side_y * side_x + CALL_COST_PATCHES * tile_px * tile_px


def cover_rectangles(selected: np.ndarray, stride_px: int, tile_px: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (r0, r1, c0, c1), half-open, that together hold every True cell of a small grid exactly
    once (disjoint), at the least window_cost: guillotine cuts, searched exhaustively (grids are G x G)."""
    grid = tuple(tuple(bool(v) for v in row) for row in np.asarray(selected, bool))
    return list(_best(grid, 0, len(grid), 0, len(grid[0]) if grid else 0, stride_px, tile_px)[1])


@lru_cache(maxsize=4096)
def _best(grid, r0: int, r1: int, c0: int, c1: int, stride_px: int, tile_px: int):
    """(cost, rectangles) for the True cells inside [r0, r1) x [c0, c1)."""
    cells = [(r, c) for r in range(r0, r1) for c in range(c0, c1) if grid[r][c]]
    if not cells:
        return 0.0, ()
    rows, cols = [r for r, _ in cells], [c for _, c in cells]
    r0, r1, c0, c1 = min(rows), max(rows) + 1, min(cols), max(cols) + 1  # shrink to the cells' bounding box
    best = (window_cost(r1 - r0, c1 - c0, stride_px, tile_px), ((r0, r1, c0, c1),))
    for cut in range(r0 + 1, r1):
        top, bottom = _best(grid, r0, cut, c0, c1, stride_px, tile_px), _best(grid, cut, r1, c0, c1, stride_px, tile_px)
        if top[0] + bottom[0] < best[0]:
            best = (top[0] + bottom[0], top[1] + bottom[1])
    for cut in range(c0 + 1, c1):
        left, right = _best(grid, r0, r1, c0, cut, stride_px, tile_px), _best(grid, r0, r1, cut, c1, stride_px, tile_px)
        if left[0] + right[0] < best[0]:
            best = (left[0] + right[0], left[1] + right[1])
    return best


def sub_plan(plan: WindowPlan, r0: int, r1: int, c0: int, c1: int) -> WindowPlan:
    """The rows r0:r1 and columns c0:c1 of a window as a window of their own."""
    rows, cols = plan.row_offsets_px[r0:r1], plan.col_offsets_px[c0:c1]
    return WindowPlan(
        x0_model_px=plan.x0_model_px + cols[0],
        y0_model_px=plan.y0_model_px + rows[0],
        col_offsets_px=tuple(x - cols[0] for x in cols),
        row_offsets_px=tuple(y - rows[0] for y in rows),
        patch_index=plan.patch_index[r0:r1, c0:c1],
    )


def sparse_windows(
    windows: Iterable[WindowPlan], selected: np.ndarray, stride_px: int, tile_px: int
) -> Iterator[tuple[int, WindowPlan | None]]:
    """(patches of the full window accounted for, a window to run or None) for each full window: its first
    item carries the full window's patch count (progress), the further ones 0; None: nothing passed there."""
    for plan in windows:
        rectangles = cover_rectangles(selected[plan.patch_index], stride_px, tile_px)
        if not rectangles:
            yield plan.patch_index.size, None
        for index, rectangle in enumerate(rectangles):
            yield (plan.patch_index.size if index == 0 else 0), sub_plan(plan, *rectangle)
