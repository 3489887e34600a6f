"""Export the window graph (engine.network.window_detector) to ONNX beside the per-patch one.

Same weights, same outputs as the per-patch contract (docs/ARCHITECTURE.md), but the input is a
window of overlapping patches and the patch origins inside it; metadata key `r2cnn_graph` = "window"
tells the runtime which graph it holds.
"""

from __future__ import annotations

import torch

from engine.config import ModelConfig
from engine.export.onnx_export import metadata_entries, trace_to_onnx
from engine.network.r2cnn import R2CNN
from engine.network.window_detector import FEATURE_STRIDE, WindowDetector
from engine.runtime.onnx_runtime import GRAPH_KEY, WINDOW_GRAPH

WINDOW_INPUT_NAMES = ["windows", "row_offsets_px", "col_offsets_px", "gate_threshold"]
WINDOW_DYNAMIC_AXES = {
    "windows": {0: "batch", 2: "height", 3: "width"},
    "row_offsets_px": {0: "grid_rows"},
    "col_offsets_px": {0: "grid_cols"},
    "gate_scores": {0: "patches"},
    "passed_index": {0: "passed"},
    "boxes_patch_px": {0: "passed"},
    "box_scores": {0: "passed"},
}


def export_window_onnx(model: R2CNN, path: str, config: ModelConfig, metadata: dict | None = None) -> None:
    """Trace the window graph (dynamic window size, patch grid and batch) and write it atomically."""
    wrapper = WindowDetector(model.eval().cpu()).eval()
    size = config.patch_size
    step = max(FEATURE_STRIDE, (size // 2) // FEATURE_STRIDE * FEATURE_STRIDE)
    example = (
        torch.zeros(1, config.in_channels, size + step, size + 2 * step),
        torch.tensor([0, step], dtype=torch.int64),
        torch.tensor([0, step, 2 * step], dtype=torch.int64),
        torch.tensor(0.5),
    )
    entries = {**metadata_entries(config, metadata), GRAPH_KEY: WINDOW_GRAPH}
    trace_to_onnx(wrapper, example, path, WINDOW_INPUT_NAMES, WINDOW_DYNAMIC_AXES, entries)
