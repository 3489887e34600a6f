"""Export the window graph (engine.network.window_detector) to ONNX beside the per-patch one.

Same weights, same outputs as the per-patch contract (docs/ARCHITECTURE.md), but the input is a
window of overlapping patches and the patch origins inside it; metadata GRAPH_KEY = WINDOW_GRAPH
(engine.contract) tells the runtime which graph it holds.
"""

from __future__ import annotations

import torch

from engine.config import ModelConfig
from engine.contract import (
    COL_OFFSETS_INPUT,
    FEATURE_STRIDE_PX,
    GRAPH_KEY,
    OUTPUT_NAMES,
    ROW_OFFSETS_INPUT,
    WINDOW_GRAPH,
    WINDOW_INPUT_NAMES,
    WINDOWS_INPUT,
)
from engine.export.onnx_export import PASSED_AXES, trace_to_onnx
from engine.model_metadata import metadata_entries
from engine.network.r2cnn import R2CNN
from engine.network.window_detector import WindowDetector

__all__ = ["WINDOW_INPUT_NAMES", "export_window_onnx"]

WINDOW_DYNAMIC_AXES = {
    WINDOWS_INPUT: {0: "batch", 2: "height", 3: "width"},
    ROW_OFFSETS_INPUT: {0: "grid_rows"},
    COL_OFFSETS_INPUT: {0: "grid_cols"},
    OUTPUT_NAMES[0]: {0: "patches"},
    **PASSED_AXES,
}


def export_window_onnx(model: R2CNN, path: str, config: ModelConfig, metadata: dict | None = None) -> None:
    """Trace the window graph (dynamic window size, patch grid and batch) and write it atomically."""
    wrapper = WindowDetector(model.eval().cpu()).eval()
    size = config.patch_size
    step = max(FEATURE_STRIDE_PX, (size // 2) // FEATURE_STRIDE_PX * FEATURE_STRIDE_PX)
    example = (
        torch.zeros(1, config.in_channels, size + step, size + 2 * step),
        torch.tensor([0, step], dtype=torch.int64),
        torch.tensor([0, step, 2 * step], dtype=torch.int64),
        torch.tensor(0.5),
    )
    entries = {**metadata_entries(config, metadata), GRAPH_KEY: WINDOW_GRAPH}
    trace_to_onnx(wrapper, example, path, WINDOW_INPUT_NAMES, WINDOW_DYNAMIC_AXES, entries)
