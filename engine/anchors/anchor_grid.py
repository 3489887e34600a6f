"""Square anchors (aspect ratio 1) tiled at the detector's stride, one per size per cell."""

from __future__ import annotations

import torch


def anchor_grid_patch_px(
    feature_height: int, feature_width: int, stride: int, sizes_px: tuple[float, ...], device=None
) -> torch.Tensor:
    """(H*W*A, 4) anchors in patch pixels, ordered (y, x, size) like the RPN's flattened outputs."""
    sizes = torch.as_tensor(sizes_px, dtype=torch.float32, device=device)
    ys = (torch.arange(feature_height, dtype=torch.float32, device=device) + 0.5) * stride
    xs = (torch.arange(feature_width, dtype=torch.float32, device=device) + 0.5) * stride
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    cx = cx[..., None]
    cy = cy[..., None]
    half = sizes / 2
    anchors = torch.stack((cx - half, cy - half, cx + half, cy + half), dim=-1)  # (H, W, A, 4)
    return anchors.reshape(-1, 4)
