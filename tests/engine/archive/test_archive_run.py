"""run_archive on a LocalCluster of two worker processes: the catalogue and the per-scene GeoPackages are what
detect_raster finds in each scene alone; a corrupt scene fails alone; a killed worker's scene runs again
elsewhere; a second run skips what is done, and re-runs a rewritten input and every scene after a change."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import pytest
from osgeo import ogr

from engine.archive import ArchiveSettings, collect_inputs, run_archive
from engine.archive.catalogue import read_catalogue
from engine.archive.records import file_hash, model_settings, settings_hash
from engine.archive.worker_models import model_loads
from tests.engine.archive.helpers import scene_answer, temporaries

pytestmark = pytest.mark.slow  # a LocalCluster of two worker processes (CI runs these)


def test_catalogue_and_scene_files_match_detect_raster_alone_and_a_corrupt_scene_fails(archive_data, client, tmp_path):
    outdir = tmp_path / "out"
    inputs = collect_inputs([str(archive_data.folder)])
    assert sorted(inputs) == sorted([*archive_data.good, archive_data.corrupt])
    loads_before = client.run(model_loads)
    summary = run_archive(inputs, ArchiveSettings(str(outdir), archive_data.config(), all_detections=True), client)
    catalogue = read_catalogue(summary.catalogue)
    assert list(catalogue) == inputs and [r.path for r in summary.records] == inputs
    for path in archive_data.good:
        record = catalogue[path]
        assert (record.status, record.error) == ("done", ""), record
        assert scene_answer(str(outdir / record.output)) == archive_data.reference[path]
        assert record.detections == len(archive_data.reference[path][1]) > 0
        assert record.model_hash == file_hash(archive_data.model)
        config = archive_data.config()
        assert record.settings_hash == settings_hash(config, model_settings(config)) and record.seconds > 0
        lon0, lon1, lat0, lat1 = ogr.CreateGeometryFromWkt(record.footprint_wkt).GetEnvelope()
        assert 116.0 < lon0 < lon1 < 117.0 and 40.0 < lat0 < lat1 < 40.5  # UTM 50N near Beijing, in degrees
    failed = catalogue[archive_data.corrupt]
    assert failed.status == "failed" and "read failed" in failed.error and "after 2 tries" in failed.error
    assert failed.footprint_wkt is None and not (outdir / failed.output).exists()
    assert (summary.count("done"), summary.count("failed"), summary.count("skipped")) == (5, 1, 0)
    loads = client.run(model_loads)
    assert all(loads[w] - loads_before.get(w, 0) <= 1 for w in loads), (loads_before, loads)  # once per worker
    dataset = ogr.Open(summary.catalogue)
    assert dataset.GetLayerByName("aircraft").GetFeatureCount() == summary.detections
    assert temporaries(outdir) == []


def test_a_worker_killed_mid_scene_has_the_scene_run_again_elsewhere_nothing_lost_or_doubled(
    archive_data, client, tmp_path
):
    outdir, inputs = tmp_path / "out", list(archive_data.good)  # the 1536 px scene first: task index 0
    pids = client.run(os.getpid)  # worker address -> pid: only processes this module's cluster started
    killed: dict[str, str] = {}

    def kill_the_worker_running_scene_0() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                if address in pids and any(str(k).startswith("r2cnn-scene-") and str(k).endswith("-0") for k in keys):
                    time.sleep(0.5)  # inside the scene (model loaded or loading, patches streaming)
                    os.kill(pids[address], signal.SIGKILL)
                    killed["address"] = address
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_worker_running_scene_0, daemon=True)
    killer.start()
    summary = run_archive(inputs, ArchiveSettings(str(outdir), archive_data.config()), client)
    killer.join(timeout=5)
    assert killed, "no worker ever ran the first scene"
    records = {record.path: record for record in summary.records}
    assert records[inputs[0]].status == "done" and records[inputs[0]].worker != killed["address"]
    for path in inputs:
        assert records[path].status == "done", records[path]
        assert scene_answer(str(outdir / records[path].output)) == archive_data.reference[path]
    assert temporaries(outdir) == []  # what the killed worker was writing, if anything, is gone


def test_resume_skips_done_scenes_by_their_record_and_reruns_what_changed(archive_data, client, tmp_path, monkeypatch):
    folder, outdir = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    inputs = [shutil.copy(path, folder) for path in archive_data.good[1:4]]  # three 1024 px scenes
    starts: list[tuple[int, int]] = []

    def run(config):
        settings = ArchiveSettings(str(outdir), config)
        return run_archive(inputs, settings, client, on_start=lambda to_run, kept: starts.append((to_run, kept)))

    def mtimes(summary) -> dict[str, int]:
        return {r.path: os.stat(outdir / r.output).st_mtime_ns for r in summary.records}

    first = run(archive_data.config())
    done = mtimes(first)
    second = run(archive_data.config())
    assert starts[-1] == (0, 3) and second.kept == 3 and second.records == first.records
    assert mtimes(second) == done  # not one scene redone

    stat = os.stat(inputs[1])  # the same bytes, written again: a newer mtime
    os.utime(inputs[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    third = run(archive_data.config())
    assert starts[-1] == (1, 2)
    assert [path for path, mtime in mtimes(third).items() if mtime != done[path]] == [inputs[1]]

    changed_config = archive_data.config(score_threshold=0.95)
    changed = run(changed_config)  # the blob model scores every box 0.9
    assert starts[-1] == (3, 0)
    assert all(mtime != done[path] for path, mtime in mtimes(changed).items())
    assert {r.settings_hash for r in changed.records} == {settings_hash(changed_config, model_settings(changed_config))}
    assert [r.detections for r in changed.records] == [0, 0, 0]
    assert [r.detections for r in first.records] == [len(archive_data.reference[p][1]) for p in archive_data.good[1:4]]

    again = run(archive_data.config(score_threshold=0.95))
    assert starts[-1] == (0, 3) and again.records == changed.records
    before = mtimes(again)
    monkeypatch.setattr("engine.__version__", "999.0")  # a new engine: same input, model and options
    newer = run(archive_data.config(score_threshold=0.95))
    assert starts[-1] == (3, 0) and changed.records[0].settings_hash not in {r.settings_hash for r in newer.records}
    assert all(mtime != before[path] for path, mtime in mtimes(newer).items())


def test_the_python_api_on_an_existing_scheduler_by_address(archive_data, client, tmp_path):
    """detect_archive with ClusterSpec(scheduler=...): what `--scheduler tcp://host:8786` does."""
    from engine.archive import ClusterSpec, dashboard_link, detect_archive

    manifest = tmp_path / "scenes.txt"
    manifest.write_text("".join(f"{path}\n" for path in archive_data.good[1:3]))
    spec = ClusterSpec(scheduler=client.scheduler.address)
    summary = detect_archive([str(manifest)], ArchiveSettings(str(tmp_path / "out"), archive_data.config()), spec)
    assert [r.path for r in summary.records] == list(archive_data.good[1:3])
    assert [r.status for r in summary.records] == ["done", "done"]
    assert summary.detections == sum(len(archive_data.reference[p][1]) for p in archive_data.good[1:3])
    assert dashboard_link(client).startswith("http://")
