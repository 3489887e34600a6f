"""One proposal selection: fast NMS on the by-coordinate IoU keeps exactly what the corner-pair formula kept;
the detector branch is the one path for inference (forward, window graph) and training (extra rois)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.config import ModelConfig  # noqa: E402
from engine.network.r2cnn import Detections, Proposals, build_r2cnn, decode_detections  # noqa: E402
from engine.ops.boxes import box_iou  # noqa: E402
from engine.ops.nms import fast_nms_keep  # noqa: E402


def corner_pair_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The former box_iou: (A, 1, 2) corners broadcast against (1, B, 2)."""
    top_left = torch.maximum(a[..., :, None, :2], b[..., None, :, :2])
    bottom_right = torch.minimum(a[..., :, None, 2:], b[..., None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]).clamp(min=0) * (a[..., 3] - a[..., 1]).clamp(min=0)
    area_b = (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    return inter / (area_a[..., :, None] + area_b[..., None, :] - inter).clamp(min=1e-6)


def random_boxes(seed: int, n: int = 3, k: int = 300) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, k, 2, generator=generator) * 60  # crowded: many overlaps above 0.7
    boxes = torch.cat([corner, corner + 8 + torch.rand(n, k, 2, generator=generator) * 20], dim=-1)
    boxes[0, :5, 2] = boxes[0, :5, 0]  # degenerate boxes too
    boxes[-1, 10:20] = boxes[-1, 0]  # exact duplicates
    return boxes


@pytest.mark.parametrize("seed", range(5))
def test_by_coordinate_nms_keeps_what_the_corner_pair_formula_kept(seed):
    boxes = random_boxes(seed)
    scores = torch.rand(boxes.shape[:2]).sort(dim=1, descending=True).values
    assert torch.equal(box_iou(boxes, boxes), corner_pair_iou(boxes, boxes))  # bit for bit
    for threshold in (0.3, 0.5, 0.7):
        expected = corner_pair_iou(boxes, boxes).triu(diagonal=1).max(dim=1).values <= threshold
        assert 0 < int(expected.sum()) < expected.numel()
        assert torch.equal(fast_nms_keep(boxes, scores, threshold), expected)


def test_box_iou_still_broadcasts_batch_dims():
    a, b = random_boxes(7, 2, 30), random_boxes(8, 1, 20)
    assert torch.equal(box_iou(a, b), corner_pair_iou(a, b))
    assert box_iou(a, b).shape == (2, 30, 20)


def test_detector_branch_serves_inference_and_training():
    torch.manual_seed(3)
    model = build_r2cnn(ModelConfig(patch_size=64, rpn_pre_nms_top_n=100, rpn_post_nms_top_n=20)).eval()
    images = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        shared = model.shared_features(images)
        detections = model.detect(shared.stride8, shared.stride16, (64, 64))
        boxes, scores = decode_detections(detections, (64, 64))
        _, passed, forward_boxes, forward_scores = model(images, torch.tensor(-1.0))
        gt = torch.tensor([[[4.0, 4.0, 20.0, 20.0]], [[30.0, 8.0, 50.0, 40.0]]])
        training = model.detect(shared.stride8, shared.stride16, (64, 64), extra_rois=gt)
    assert isinstance(detections, Detections) and isinstance(detections.proposals, Proposals)
    assert passed.tolist() == [0, 1]
    torch.testing.assert_close(boxes, forward_boxes, rtol=0, atol=0)
    torch.testing.assert_close(scores, forward_scores, rtol=0, atol=0)
    assert training.rois.shape == (2, 21, 4) and torch.equal(training.rois[:, -1:], gt)
    assert training.cls_logits.shape == (2, 21, 2) and training.box_deltas.shape == (2, 21, 4)
    torch.testing.assert_close(training.cls_logits[:, :20], detections.cls_logits)
    with pytest.raises(ValueError, match="extra_rois"):
        decode_detections(training, (64, 64))
