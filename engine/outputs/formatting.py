"""How reports write numbers: fixed digits with '-' for undefined (text, HTML), nan as None (JSON)."""

from __future__ import annotations

import math


def fixed(value: float | None, digits: int = 4) -> str:
    """Fixed digits, '-' for undefined."""
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def json_ready(value):
    """Recursively replace nan by None (JSON has no nan) and tuples by lists."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
