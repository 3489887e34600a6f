"""OnnxWindowDetector: the window graph (trunk once per window of overlapping patches) behind the
same post-processing as OnnxDetector; it also answers per-patch calls (each patch a 1 x 1 window)."""

from __future__ import annotations

import numpy as np

from engine.contract import (
    COL_OFFSETS_INPUT,
    FEATURE_STRIDE_PX,
    GATE_THRESHOLD_INPUT,
    ROW_OFFSETS_INPUT,
    WINDOW_INPUT_NAMES,
    WINDOWS_INPUT,
)
from engine.errors import ModelError
from engine.runtime.model_session import OpenedModel, as_model_input, describe_opened, missing_names
from engine.runtime.postprocess import batch_result
from engine.runtime.types import BatchResult

OFFSET_ALIGN_PX = FEATURE_STRIDE_PX  # patch origins inside a window: multiples of the trunk's coarsest stride


class OnnxWindowDetector:
    """run_windows(): B windows sharing one patch grid -> B * rows * cols patches, row-major per window."""

    def __init__(self, opened: OpenedModel, min_score: float | None = None):
        missing = missing_names(opened.session, WINDOW_INPUT_NAMES)
        if missing:
            raise ModelError(
                f"{opened.model_path} is marked as a window graph but lacks {', '.join(missing)}"
            )
        self._session = opened.session
        self.patch_size = int(opened.config.patch_size)
        self.offset_align_px = OFFSET_ALIGN_PX
        describe_opened(self, opened, min_score)

    def run_windows(
        self,
        windows_u8: np.ndarray,
        row_offsets_px: np.ndarray,
        col_offsets_px: np.ndarray,
        gate_threshold: float,
    ) -> BatchResult:
        """(B, C, H, W) windows and patch origins inside them -> gate scores and detections per patch."""
        rows = np.asarray(row_offsets_px, dtype=np.int64).reshape(-1)
        cols = np.asarray(col_offsets_px, dtype=np.int64).reshape(-1)
        windows = as_model_input(windows_u8, self.input_dtype)
        _check_grid(windows.shape, rows, cols, self.patch_size, self.config.in_channels)
        feeds = {
            WINDOWS_INPUT: windows,
            ROW_OFFSETS_INPUT: rows,
            COL_OFFSETS_INPUT: cols,
            GATE_THRESHOLD_INPUT: np.asarray(gate_threshold, dtype=np.float32),
        }
        gate_scores, passed_index, boxes, box_scores = self._session.run(feeds)
        return batch_result(gate_scores, passed_index, boxes, box_scores, self.min_score, self.config.det_nms_iou,
                            self.config.rpn_post_nms_top_n)

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        """The Detector interface: a batch of patches, each its own 1 x 1 window (identical to per patch)."""
        if np.ndim(images_u8) != 4 or tuple(np.shape(images_u8)[2:]) != (self.patch_size, self.patch_size):
            raise ValueError(f"this model takes {self.patch_size} px patches, got {np.shape(images_u8)[2:]}")
        zero = np.zeros(1, dtype=np.int64)
        return self.run_windows(images_u8, zero, zero, gate_threshold)


def _check_grid(shape: tuple[int, ...], rows: np.ndarray, cols: np.ndarray, patch_px: int, channels: int) -> None:
    """Offsets aligned to FEATURE_STRIDE_PX and every patch inside the window: the graph cannot check it itself."""
    if len(shape) != 4 or shape[1] != channels:
        raise ValueError(f"expected (B, {channels}, H, W) windows, got {shape}")
    if rows.size == 0 or cols.size == 0:
        raise ValueError("a window needs at least one patch row and column")
    for name, offsets, extent in (("row", rows, shape[2]), ("col", cols, shape[3])):
        if np.any(offsets % OFFSET_ALIGN_PX) or offsets.min() < 0 or offsets.max() + patch_px > extent:
            raise ValueError(
                f"{name} offsets {offsets.tolist()} must be multiples of {OFFSET_ALIGN_PX} px with each "
                f"{patch_px} px patch inside the {extent} px window"
            )
