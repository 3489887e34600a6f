"""Position-sensitive RoI align (R-FCN) in plain torch: one grid_sample, vectorised over RoIs."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def psroi_align(
    score_maps: torch.Tensor, rois_patch_px: torch.Tensor, stride: int, k: int, channels: int, samples: int = 2
) -> torch.Tensor:
    """Pool (N, k*k*C, H, W) maps over (N, R, 4) RoIs -> (N, R, C, k, k).

    Bin (i, j) of a RoI reads only channel group i*k+j (position sensitivity), averaging
    samples x samples bilinear samples inside the bin. Channel layout: index = (i*k + j)*C + c.
    """
    n, _, height, width = score_maps.shape
    r = rois_patch_px.shape[1]
    maps = score_maps.reshape(n * k * k, channels, height, width)

    x0, y0, x1, y1 = rois_patch_px.unbind(-1)  # (N, R)
    bin_w = (x1 - x0).clamp(min=1e-3) / k
    bin_h = (y1 - y0).clamp(min=1e-3) / k
    steps = (torch.arange(samples, dtype=score_maps.dtype, device=score_maps.device) + 0.5) / samples
    bins = torch.arange(k, dtype=score_maps.dtype, device=score_maps.device)
    # Sample positions inside bin b along one axis: (b + steps) * bin size, offset by the RoI origin.
    offsets = (bins[:, None] + steps[None, :]).reshape(k, samples)  # (k, s)
    xs = x0[..., None, None] + offsets * bin_w[..., None, None]  # (N, R, k, s)
    ys = y0[..., None, None] + offsets * bin_h[..., None, None]  # (N, R, k, s)
    # Normalised coordinates for align_corners=False: feature coord = image px / stride.
    xs = xs / (stride * width) * 2 - 1
    ys = ys / (stride * height) * 2 - 1
    # Grid for every (bin_y, bin_x): (N, k_y, k_x, R, s_y, s_x, 2)
    gx = xs.permute(0, 2, 1, 3)[:, None, :, :, None, :].expand(n, k, k, r, samples, samples)
    gy = ys.permute(0, 2, 1, 3)[:, :, None, :, :, None].expand(n, k, k, r, samples, samples)
    grid = torch.stack((gx, gy), dim=-1).reshape(n * k * k, r, samples * samples, 2)
    sampled = F.grid_sample(maps, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    pooled = sampled.mean(dim=-1)  # (N*k*k, C, R)
    return pooled.reshape(n, k, k, channels, r).permute(0, 4, 3, 1, 2)
