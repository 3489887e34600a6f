"""An existing detection layer scored against references in another CRS, with hand-counted TP / FP / FN and
AP; the report folder (three error layers, two PNGs, HTML, JSON) written whole or not at all."""

from __future__ import annotations

import json

import numpy as np
import pytest
from osgeo import ogr

import engine.evaluation.report_content as report_content
from engine.datasets.labelled import LabelSource
from engine.datasets.readers import read_labelled
from engine.errors import OutputError
from engine.evaluation.box_errors import BoxSet, classify
from engine.evaluation.labelled_eval import score_layer
from engine.evaluation.report_folder import write_report_folder
from tests.engine.labelled_scenes import BLOBS_PX, blob_box_px, write_blob_raster, write_polygons

R = [blob_box_px(*b) for b in BLOBS_PX]
SHIFTED = (R[1][0] + 1, R[1][1], R[1][2] + 1, R[1][3])  # IoU 30 / 42 with R[1]
# D1 on R1, D2 on R2 (shifted), D3 a duplicate of R1, D4 on unreferenced ground, D5 on R3 but scoring low
DETECTIONS = [R[0], SHIFTED, R[0], R[4], R[2]]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.3]


@pytest.fixture
def scored(tmp_path):
    raster = write_blob_raster(tmp_path / "scene.tif")
    refs = write_polygons(tmp_path / "refs.gpkg", R[:4], epsg=4326)
    detections = write_polygons(tmp_path / "detections.gpkg", DETECTIONS, epsg=32631, scores=SCORES)
    data = read_labelled(LabelSource(pairs=((raster, refs),)))
    return score_layer(data, detections, "score", score_threshold=0.5), (raster, refs, detections)


def test_hand_counted_errors_and_ap(scored):
    evaluation, _ = scored
    point = evaluation.operating
    assert (point.tp, point.fp, point.fn) == (2, 2, 2)  # D1, D2 | D3, D4 | R3 (D5 is below 0.5), R4
    assert point.recall == pytest.approx(0.5) and point.precision == pytest.approx(0.5)
    # all five by score: T T F F T over 4 references -> 0.25 * 1 + 0.25 * 1 + 0.25 * 0.6
    assert evaluation.report.detection.ap50 == pytest.approx(0.65)
    assert evaluation.report.from_layer and "no model run" in report_content.to_text(evaluation)
    errors = evaluation.errors[0]
    assert list(errors.det_match) == [0, 1, -1, -1]
    assert errors.det_iou[1] == pytest.approx(30 / 42) and errors.det_iou[2] == pytest.approx(1.0)
    assert list(errors.det_nearest) == [0, 1, 0, -1] and list(errors.missed) == [2, 3]


def test_classify_counts_each_reference_once():
    box_set = BoxSet("s", [(0, 0, 10, 10), (0, 0, 10, 10), (50, 50, 60, 60)], [0.9, 0.8, 0.1], [1, 2, 3],
                     [(0, 0, 10, 10), (50, 50, 60, 60)], [7, 8])
    errors = classify(box_set, 0.5, 0.5)
    assert (errors.point.tp, errors.point.fp, errors.point.fn) == (1, 1, 1)
    assert list(errors.kept) == [0, 1] and list(errors.missed) == [1]
    assert np.isnan(classify(BoxSet("e", [], [], [], [], []), 0.5).point.recall)


def test_report_folder_holds_layers_pictures_and_pages(scored, tmp_path):
    evaluation, inputs = scored
    folder = tmp_path / "report"
    files = write_report_folder(evaluation, str(folder), protect=inputs)
    assert sorted(p.name for p in folder.iterdir()) == [
        "evaluation.gpkg", "pr_curve.png", "report.html", "report.json", "score_histogram.png"]
    assert set(files.paths) == {"layers", "pr_curve", "histogram", "html", "json"}
    dataset = ogr.Open(str(folder / "evaluation.gpkg"))
    counts = {dataset.GetLayer(i).GetName(): dataset.GetLayer(i).GetFeatureCount() for i in range(3)}
    assert counts == {"true_positive": 2, "false_positive": 2, "false_negative": 2}
    fp = dataset.GetLayerByName("false_positive")
    assert fp.GetSpatialRef().GetAuthorityCode(None) == "32631"
    assert [fp.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(5)] == [
        "feature_id", "score", "iou", "matched_id", "source"]
    duplicate, ground = sorted(fp, key=lambda f: f["feature_id"])
    assert (duplicate["feature_id"], duplicate["matched_id"], duplicate["iou"]) == (3, 1, pytest.approx(1.0))
    assert ground["matched_id"] is None and ground["iou"] == 0.0
    missed = sorted(f["feature_id"] for f in dataset.GetLayerByName("false_negative"))
    assert missed == [3, 4] and all(f["score"] is None for f in dataset.GetLayerByName("false_negative"))
    dataset = None
    for name in ("pr_curve.png", "score_histogram.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2 and "AI-TOD size bins" in html
    report = json.loads((folder / "report.json").read_text())
    assert report["headline"]["tp"] == 2 and report["headline"]["ap50"] == pytest.approx(0.65)


def test_report_folder_is_never_half_written(scored, tmp_path, monkeypatch):
    evaluation, inputs = scored
    folder = tmp_path / "report"
    write_report_folder(evaluation, str(folder))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    with pytest.raises(OutputError, match="exists"):
        write_report_folder(evaluation, str(folder))
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    with pytest.raises(OutputError, match="is an input"):
        write_report_folder(evaluation, str(tmp_path), overwrite=True, protect=[str(tmp_path / "report.json")])

    def broken(*_args):
        raise OutputError("disk full")

    monkeypatch.setattr(report_content, "to_dict", broken)
    with pytest.raises(OutputError, match="disk full"):
        write_report_folder(evaluation, str(tmp_path / "fresh"))
    assert not (tmp_path / "fresh").exists()
    with pytest.raises(OutputError, match="disk full"):
        write_report_folder(evaluation, str(folder), overwrite=True)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # no temporaries, no partial set


def test_groups_give_the_whole_set_answer():
    """Matching group by group (bounded memory, no per-image cap) is the matching over the whole set."""
    from engine.evaluation.box_errors import overlap_groups, split_result
    from engine.evaluation.metrics import ImageResult, detection_metrics
    from engine.ops.box_arrays import greedy_match

    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 2000, (300, 2))
    truth = np.concatenate([truth, truth + rng.uniform(6, 40, (300, 2))], axis=1)
    boxes = truth[rng.integers(0, 300, 400)] + rng.normal(0, 3, (400, 4))
    scores = rng.uniform(0, 1, 400)
    whole = ImageResult(boxes, scores, truth)
    groups = overlap_groups(boxes, truth, cell_px=64)
    assert len(groups) > 20 and sorted(np.concatenate([d for d, _ in groups])) == list(range(400))
    split = detection_metrics(split_result(whole, cell_px=64))
    assert split == detection_metrics([whole])
    errors = classify(BoxSet("r", boxes, scores, range(400), truth, range(300)), 0.5, 0.5)
    keep = scores >= 0.5
    assert errors.point.tp == int(greedy_match(boxes[keep], scores[keep], truth, 0.5).is_tp.sum())


def test_groups_without_references_or_detections():
    far = BoxSet("s", [(0, 0, 10, 10), (3000, 3000, 3010, 3010)], [0.9, 0.8], [1, 2], [(5000, 0, 5010, 10)], [9])
    errors = classify(far, 0.5)
    assert (errors.point.tp, errors.point.fp, errors.point.fn) == (0, 2, 1)
    assert list(errors.det_nearest) == [-1, -1] and list(errors.ref_nearest) == [-1]
