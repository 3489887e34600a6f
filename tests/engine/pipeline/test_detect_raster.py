"""detect_raster end to end with a fake detector: boxes, georeference, merge, skipping, gate, cancel."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from engine.config import DetectConfig
from engine.errors import DetectionCancelled, RasterInputError
from engine.pipeline.detect import detect_raster

# Blobs in raster px (x0, y0, x1, y1): the second one is cut by the right edge of the first patch column
# (patches are 64 px with stride 48), the third sits in the overlap of four patches.
BLOBS = [(10, 10, 17, 16), (60, 20, 68, 26), (100, 100, 106, 104), (250, 170, 258, 176)]


def _scene(height=200, width=300, blobs=BLOBS, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.integers(80, 120, (1, height, width)).astype(np.uint8)
    for x0, y0, x1, y1 in blobs:
        data[0, y0:y1, x0:x1] = 250
    return data


def _sorted(boxes) -> list[list[float]]:
    return sorted(np.asarray(boxes).round(3).tolist())


def test_every_blob_found_once_in_raster_px_and_map_coordinates(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    progress: list[float] = []
    result = detect_raster(path, DetectConfig(batch_size=3), progress=progress.append, detector=fake_detector)
    assert _sorted(result.boxes_raster_px) == _sorted(BLOBS)  # the border-cut one reported once
    assert result.stats.detections_before_merge > len(BLOBS)  # overlaps did produce duplicates
    transform = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4000000.0)
    for box, ring in zip(result.boxes_raster_px, result.rings_map, strict=True):
        assert ring[0].tolist() == list(transform * (box[0], box[1]))
        assert ring[2].tolist() == list(transform * (box[2], box[3]))
    assert result.source == "scene.tif" and "UTM zone 50N" in result.crs_wkt
    assert result.labels == ("aircraft",) * 4
    assert np.all(result.scores == pytest.approx(0.9)) and np.all(result.patch_scores > 0.99)
    assert progress == sorted(progress) and progress[-1] == 100.0
    assert set(fake_detector.batches) <= {1, 2, 3}


def test_patches_without_data_or_texture_never_reach_the_network(tmp_path, tif, fake_detector):
    data = _scene()
    data[:, :, :150] = 0  # nodata on the left half
    data[:, :100, 150:] = 90  # flat top-right
    path = tif(tmp_path / "nodata.tif", data, nodata=0)
    result = detect_raster(path, DetectConfig(), detector=fake_detector)
    stats = result.stats
    assert stats.patches_total == 6 * 4
    assert (
        stats.patches_skipped_nodata == 24 - sum(fake_detector.batches) == 8 + 4
    )  # 8 all nodata, 4 flat (or flat + nodata)
    assert _sorted(result.boxes_raster_px) == [[250, 170, 258, 176]]


def test_gate_decides_which_patches_are_detected_and_no_gate_runs_all(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene(blobs=[(10, 10, 17, 16)]))
    gated = detect_raster(path, DetectConfig(), detector=fake_detector)
    assert fake_detector.gate_thresholds[-1] == 0.5
    assert gated.stats.patches_passed_gate == 1  # only the patch with the blob
    no_gate = detect_raster(path, DetectConfig(use_gate=False), detector=fake_detector)
    assert fake_detector.gate_thresholds[-1] == -1.0
    assert no_gate.stats.patches_passed_gate == no_gate.stats.patches_total == 24
    assert _sorted(gated.boxes_raster_px) == _sorted(no_gate.boxes_raster_px) == [[10, 10, 17, 16]]


def test_score_threshold_applies_even_to_a_permissive_detector(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    result = detect_raster(path, DetectConfig(score_threshold=0.95), detector=fake_detector)
    assert len(result.scores) == 0 and result.rings_map.shape == (0, 5, 2)


def test_cancel_between_batches_raises_and_stops_early(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(fake_detector.batches) >= 2

    with pytest.raises(DetectionCancelled):
        detect_raster(path, DetectConfig(batch_size=2), should_stop=should_stop, detector=fake_detector)
    assert len(fake_detector.batches) == 2


def test_cancel_before_start(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    with pytest.raises(DetectionCancelled):
        detect_raster(path, DetectConfig(), should_stop=lambda: True, detector=fake_detector)
    assert fake_detector.batches == []


def test_raster_smaller_than_a_patch_is_padded_not_refused(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "small.tif", _scene(20, 30, blobs=[(5, 5, 9, 9)]))
    result = detect_raster(path, DetectConfig(), detector=fake_detector)
    assert result.stats.patches_total == 1
    assert _sorted(result.boxes_raster_px) == [[5, 5, 9, 9]]


def test_finer_raster_boxes_come_back_in_its_own_pixels(tmp_path, tif, fake_detector):
    blobs = [(20, 40, 32, 52), (200, 120, 212, 132)]  # even coordinates: exact at half resolution
    path = tif(tmp_path / "fine.tif", _scene(240, 260, blobs), transform=Affine(1.0, 0, 500000, 0, -1.0, 4e6))
    result = detect_raster(path, DetectConfig(), detector=fake_detector)
    assert result.stats.gsd_raster_m == (1.0, 1.0)
    assert _sorted(result.boxes_raster_px) == _sorted(blobs)


def test_processing_extent_limits_the_tiles_and_the_boxes(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    # map extent over raster px x 0..120, y 0..60
    extent = (500000.0, 4000000.0 - 120.0, 500240.0, 4000000.0)
    result = detect_raster(path, DetectConfig(extent_map=extent), detector=fake_detector)
    assert result.stats.patches_total < 24
    assert _sorted(result.boxes_raster_px) == [[10, 10, 17, 16], [60, 20, 68, 26]]
    with pytest.raises(RasterInputError, match="extent"):
        detect_raster(path, DetectConfig(extent_map=(0.0, 0.0, 1.0, 1.0)), detector=fake_detector)


def test_unreferenced_raster_is_processed_in_pixel_space_with_a_warning(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "plain.tif", _scene(), crs=None)
    messages: list[str] = []
    result = detect_raster(path, DetectConfig(), log=messages.append, detector=fake_detector)
    assert result.crs_wkt is None
    assert any(m.startswith("warning:") and "pixel space" in m for m in messages)
    assert result.rings_map[:, 0, 1].max() <= 0  # y down as negative map y, as QGIS shows such rasters
    assert len(result.scores) == 4


def test_run_stats_are_complete(tmp_path, tif, fake_detector):
    path = tif(tmp_path / "scene.tif", _scene())
    stats = detect_raster(path, DetectConfig(), detector=fake_detector).stats
    assert stats.device == "cpu" and stats.gated and stats.tile_size_px == 64 and stats.overlap == 0.25
    assert stats.raster_size_px == (300, 200) and stats.detections == 4
    assert {"open", "stretch", "read", "network", "merge", "georef", "total"} <= set(stats.stage_seconds)
    assert stats.peak_rss_mb is None or stats.peak_rss_mb > 10
    assert stats.to_dict()["patches_total"] == 24
