import numpy as np
import torch

from engine.ops.psroi_pool import psroi_align


def bilinear(feature: np.ndarray, x: float, y: float) -> float:
    """Direct bilinear sample at continuous feature coords (pixel centres at i + 0.5), zeros outside."""
    h, w = feature.shape
    x, y = x - 0.5, y - 0.5
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    total = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                total += wy * wx * feature[yy, xx]
    return total


def test_psroi_matches_direct_formula():
    torch.manual_seed(0)
    k, channels, stride, samples = 3, 2, 8, 2
    maps = torch.randn(2, k * k * channels, 12, 10)
    rois = torch.tensor(
        [[[8.0, 16.0, 40.0, 50.0], [0.0, 0.0, 80.0, 96.0]], [[20.0, 5.0, 27.0, 13.0], [33.0, 41.0, 70.0, 90.0]]]
    )
    out = psroi_align(maps, rois, stride, k, channels, samples).numpy()
    assert out.shape == (2, 2, channels, k, k)
    m = maps.numpy()
    for n in range(2):
        for r in range(2):
            x0, y0, x1, y1 = rois[n, r].tolist()
            bw, bh = (x1 - x0) / k, (y1 - y0) / k
            for i in range(k):
                for j in range(k):
                    for c in range(channels):
                        feature = m[n, (i * k + j) * channels + c]
                        vals = [
                            bilinear(
                                feature,
                                (x0 + (j + (sx + 0.5) / samples) * bw) / stride,
                                (y0 + (i + (sy + 0.5) / samples) * bh) / stride,
                            )
                            for sy in range(samples)
                            for sx in range(samples)
                        ]
                        assert abs(out[n, r, c, i, j] - np.mean(vals)) < 1e-4


def test_psroi_is_differentiable():
    maps = torch.randn(1, 4 * 2, 8, 8, requires_grad=True)
    out = psroi_align(maps, torch.tensor([[[4.0, 4.0, 40.0, 40.0]]]), 8, 2, 2)
    out.sum().backward()
    assert maps.grad.abs().sum() > 0
