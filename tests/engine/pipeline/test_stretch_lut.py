"""The 8/16-bit lookup table gives exactly what the float stretch gives."""
from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.stretch import Stretch, apply_lookup_table, lookup_table, percentile_stretch


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
def test_lookup_table_matches_apply(dtype):
    info = np.iinfo(dtype)
    raw = np.random.default_rng(0).integers(info.min, info.max, (3, 40, 50), endpoint=True).astype(dtype)
    stretch = percentile_stretch(raw)
    table = lookup_table(stretch, dtype)
    assert table.shape == (3, 2 ** (8 * np.dtype(dtype).itemsize)) and table.dtype == np.uint8
    assert np.array_equal(apply_lookup_table(table, raw), stretch.apply(raw))


def test_no_table_for_wide_or_float_types():
    stretch = Stretch(low=(0.0,), high=(1.0,))
    assert lookup_table(stretch, "float32") is None and lookup_table(stretch, "uint32") is None
