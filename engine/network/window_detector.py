"""The trunk once per window of overlapping patches: the 20 % overlap is not computed twice.

Tiny-Net (conv-1..conv-5) is fully convolutional, so it runs once over a window that holds a grid of
patches; each patch's stride-8 / stride-16 features are then cut out of the window's maps and go
through the per-patch part of R2CNN.forward (global attention, gate, detector) with the same
modules and weights. Only the trunk's view across patch borders differs from the per-patch path
(real neighbouring pixels instead of zero padding), so gate scores and boxes near the borders
can move a little; the benchmark measures the agreement.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.contract import FEATURE_STRIDE_PX
from engine.network.r2cnn import R2CNN, decode_detections, gate_decision
from engine.network.tinynet import TinyNet


class WindowDetector(nn.Module):
    """forward(windows, row_offsets_px, col_offsets_px, gate_threshold) -> the model contract's outputs.

    windows (B, C, H, W) 0..255; row/col offsets (gy,), (gx,) int64: patch origins in window px,
    multiples of FEATURE_STRIDE_PX (16), shared by the B windows. Patches are numbered (b, row, col) row-major, so the
    outputs read exactly like R2CNN.forward on a batch of B * gy * gx patches.
    """

    def __init__(self, model: R2CNN):
        super().__init__()
        self.model = model
        self.config = model.config
        size = int(model.config.patch_size)
        if size % FEATURE_STRIDE_PX:
            raise ValueError(f"the window graph needs a patch size divisible by {FEATURE_STRIDE_PX}, got {size}")
        self.patch_px = size

    def forward(
        self,
        windows: torch.Tensor,
        row_offsets_px: torch.Tensor,
        col_offsets_px: torch.Tensor,
        gate_threshold: torch.Tensor,
    ):
        """Trunk on the windows, then R2CNN.forward's per-patch steps on features cut per patch.

        Every patch's stride-16 features go through the attention and the gate; the stride-8 features
        are cut only for the patches that pass (the detector's zoom is their only reader).
        """
        m = self.model
        patch_hw = (self.patch_px, self.patch_px)
        stride8, stride16 = m.trunk(windows)
        rows, cols = row_offsets_px.reshape(-1), col_offsets_px.reshape(-1)
        s8, s16 = TinyNet.STRIDE8_PX, TinyNet.STRIDE16_PX
        per_patch16 = cut_patches(stride16, rows // s16, cols // s16, self.patch_px // s16)
        stride16, gate_logits = m.attend_and_classify(per_patch16)
        gate_scores, passed_index = gate_decision(gate_logits, gate_threshold)
        passed8 = cut_selected(stride8, rows // s8, cols // s8, self.patch_px // s8, passed_index)
        boxes, box_scores = decode_detections(m.detect(passed8, stride16[passed_index], patch_hw), patch_hw)
        return gate_scores, passed_index, boxes, box_scores


def cut_patches(
    features: torch.Tensor, row_starts: torch.Tensor, col_starts: torch.Tensor, size: int
) -> torch.Tensor:
    """(B, C, H, W) maps -> (B * gy * gx, C, size, size): the square at every (row, col) start, row-major.

    Two index_select gathers (ONNX Gather) with indices built from the start vectors, so the number of
    patches and the window size stay dynamic in the exported graph.
    """
    b, c, height, width = features.shape
    gy, gx = row_starts.shape[0], col_starts.shape[0]
    span = torch.arange(size, dtype=row_starts.dtype, device=row_starts.device)
    row_index = (row_starts[:, None] + span[None, :]).reshape(-1)  # (gy * size,)
    col_index = (col_starts[:, None] + span[None, :]).reshape(-1)  # (gx * size,)
    picked = features.index_select(2, row_index).index_select(3, col_index)  # (B, C, gy*s, gx*s)
    picked = picked.reshape(b, c, gy, size, gx, size).permute(0, 2, 4, 1, 3, 5)
    return picked.reshape(b * gy * gx, c, size, size)


def cut_selected(
    features: torch.Tensor, row_starts: torch.Tensor, col_starts: torch.Tensor, size: int, patches: torch.Tensor
) -> torch.Tensor:
    """(B, C, H, W) maps -> (M, C, size, size) for M patch numbers (b, row, col row-major): one Gather."""
    b, c, height, width = features.shape
    gy, gx = row_starts.shape[0], col_starts.shape[0]
    window, row, col = patches // (gy * gx), (patches // gx) % gy, patches % gx
    span = torch.arange(size, dtype=row_starts.dtype, device=row_starts.device)
    rows = row_starts[row][:, None] + span[None, :]  # (M, size)
    cols = col_starts[col][:, None] + span[None, :]  # (M, size)
    index = (window[:, None, None] * height + rows[:, :, None]) * width + cols[:, None, :]  # (M, size, size)
    flat = features.permute(1, 0, 2, 3).reshape(c, b * height * width)
    picked = flat.index_select(1, index.reshape(-1)).reshape(c, patches.shape[0], size, size)
    return picked.permute(1, 0, 2, 3)

