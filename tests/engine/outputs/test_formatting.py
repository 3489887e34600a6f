"""The reports' number rules: fixed digits and '-' for undefined in text, nan as None and lists in JSON."""

from __future__ import annotations

import json
import math

import numpy as np

from engine.outputs.formatting import fixed, json_ready


def test_fixed_digits_and_a_dash_for_undefined():
    assert fixed(0.95421) == "0.9542"
    assert fixed(np.float64(0.5), 3) == "0.500"
    assert fixed(math.nan) == "-" and fixed(None) == "-"
    assert fixed(3) == "3.0000"


def test_json_ready_replaces_nan_at_any_depth_and_tuples_by_lists():
    value = {"a": math.nan, "b": (1.0, {"c": math.nan, "d": [math.nan, 2]}), "e": "x"}
    ready = json_ready(value)
    assert ready == {"a": None, "b": [1.0, {"c": None, "d": [None, 2]}], "e": "x"}
    assert json.loads(json.dumps(ready, allow_nan=False)) == ready
