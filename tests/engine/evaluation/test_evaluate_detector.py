"""evaluate_detector with a fake that finds bright squares: single patches, tiled images, the gate; the
patches are the deployed stream's (uint8, padded with the model's fill value, flat ones skipped)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.datasets.airbus import LabelledImage
from engine.evaluation.evaluate import evaluate_detector
from engine.runtime.types import BatchResult, PatchDetections


def _runs(mask_1d: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of True."""
    padded = np.concatenate([[False], mask_1d, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


class SquareFinder:
    """Boxes around pixels == 255 (squares laid on a grid); gate score high when there is any."""

    def __init__(self, patch_size: int = 64, overlap: float = 0.25):
        self.config = ModelConfig(patch_size=patch_size, overlap=overlap, gate_threshold=0.5)
        self.device = "cpu"
        self.calls: list[tuple[tuple[int, ...], float]] = []
        self.seen: list[np.ndarray] = []

    def __call__(self, images_u8: np.ndarray, gate_threshold: float) -> BatchResult:
        assert images_u8.dtype == np.uint8 and images_u8.ndim == 4 and images_u8.shape[1] == 3
        self.calls.append((images_u8.shape, gate_threshold))
        self.seen.append(images_u8.copy())
        gate_scores, detections = [], []
        for patch in images_u8:
            mask = patch[0] == 255.0
            boxes = [
                (x0, y0, x1, y1)
                for y0, y1 in _runs(mask.any(axis=1))
                for x0, x1 in _runs(mask.any(axis=0))
                if mask[y0:y1, x0:x1].any()
            ]
            score = 0.9 if boxes else 0.1
            gate_scores.append(score)
            if score < gate_threshold or not boxes:
                detections.append(PatchDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)))
            else:
                detections.append(
                    PatchDetections(np.asarray(boxes, np.float32), np.full(len(boxes), 0.8, np.float32))
                )
        return BatchResult(np.asarray(gate_scores, np.float32), detections)


def _image(image_id: str, size: tuple[int, int], boxes: list[tuple[int, int, int, int]]) -> LabelledImage:
    pixels = np.random.default_rng(0).integers(50, 70, (size[0], size[1], 3)).astype(np.uint8)  # ground texture
    for x0, y0, x1, y1 in boxes:
        pixels[y0:y1, x0:x1] = 255
    return LabelledImage(
        image_id, pixels, np.asarray(boxes, np.float32).reshape(-1, 4), np.zeros(len(boxes), bool)
    )


def test_single_patch_images_perfect_detector():
    images = [
        _image("a", (64, 64), [(5, 5, 15, 15), (30, 40, 42, 50)]),
        _image("b", (64, 64), []),
        _image("c", (50, 60), [(40, 30, 48, 38)]),  # smaller than a patch: padded
    ]
    detector = SquareFinder()
    report = evaluate_detector(detector, images, gate_threshold=0.5, batch_size=2)
    assert report.n_images == 3 and report.n_patches == 3 and report.n_patches_passed == 2
    assert report.detection.ap50 == pytest.approx(1.0) and report.detection.max_recall == 1.0
    assert report.detection.n_gt == 3 and report.detection.rows[0].fp == 0
    assert (report.gate.tp, report.gate.fp, report.gate.fn, report.gate.tn) == (2, 0, 0, 1)
    assert report.gate.aircraft_recall == 1.0
    assert [shape[0] for shape, _ in detector.calls] == [1, 1, 1]  # one scene per image, as detect_raster
    assert all(shape[2:] == (64, 64) and threshold == 0.5 for shape, threshold in detector.calls)
    assert report.coco is not None and report.coco.ap50["all"] == pytest.approx(1.0)


def test_tiled_image_merges_objects_cut_by_patch_edges():
    """150 x 150 px with 64 px patches at 25 % overlap: squares on tile borders are found whole once."""
    squares = [(44, 10, 54, 20), (90, 45, 100, 53), (10, 90, 18, 101), (130, 130, 140, 140), (60, 60, 66, 66)]
    detector = SquareFinder()
    report = evaluate_detector(detector, [_image("big", (150, 150), squares)], gate_threshold=0.5)
    assert report.n_patches == 9  # 3 x 3 tiles
    assert [shape[0] for shape, _ in detector.calls] == [4, 4, 1]  # batches of at most batch_size patches
    assert report.detection.ap50 == pytest.approx(1.0)
    assert report.detection.n_detections == len(squares)  # halves merged into the whole
    assert report.gate.positives >= 5


def test_gate_threshold_and_no_gate():
    images = [_image("a", (64, 64), [(5, 5, 15, 15)]), _image("b", (64, 64), [])]
    strict = evaluate_detector(SquareFinder(), images, gate_threshold=0.95)
    assert strict.detection.ap50 == 0.0 and strict.detection.max_recall == 0.0
    assert strict.gate.recall == 0.0 and strict.gate.aircraft_recall == 0.0 and strict.n_patches_passed == 0
    detector = SquareFinder()
    open_gate = evaluate_detector(detector, images, gate_threshold=-1.0)
    assert {threshold for _, threshold in detector.calls} == {-1.0}
    assert open_gate.detection.ap50 == pytest.approx(1.0) and open_gate.n_patches_passed == 2
    assert open_gate.gate.threshold == 0.5  # gate reported at the model's recommended threshold
    assert "gate off" in open_gate.to_text()


def test_wrong_detector_output_or_image_is_an_error():
    class Broken(SquareFinder):
        def __call__(self, images_u8, gate_threshold):
            result = super().__call__(images_u8, gate_threshold)
            return BatchResult(result.gate_scores[:-1], result.detections)

    with pytest.raises(ValueError, match="gate scores"):
        evaluate_detector(Broken(), [_image("a", (64, 64), [])] * 2, gate_threshold=0.5)
    floats = LabelledImage("f", np.zeros((64, 64, 3), np.float32), np.zeros((0, 4), np.float32), np.zeros(0, bool))
    with pytest.raises(ValueError, match="uint8"):
        evaluate_detector(SquareFinder(), [floats], gate_threshold=0.5)


def test_flat_patches_are_skipped_and_padding_takes_the_fill_value_as_in_detect_raster():
    flat = LabelledImage("flat", np.full((64, 64, 3), 60, np.uint8), np.zeros((0, 4), np.float32), np.zeros(0, bool))
    detector = SquareFinder()
    report = evaluate_detector(detector, [flat, _image("small", (50, 60), [(40, 30, 48, 38)])], gate_threshold=0.5)
    assert report.n_images == 2 and report.n_patches == 1 and len(detector.calls) == 1
    assert detector.seen[0][0, :, 55, 0].tolist() == [110, 110, 110]  # below the 50 px image: the model's mean
