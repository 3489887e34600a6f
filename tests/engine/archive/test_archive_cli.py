"""`r2cnn detect-archive` as a user runs it: Ctrl-C on the whole process group mid-run keeps the finished
scenes and nothing partial, the same command resumes without redoing them; bad input is one line, exit 2."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from osgeo import ogr

from engine.archive.catalogue import read_catalogue
from engine.cli.main import main
from tests.engine.archive.helpers import scene_answer, temporaries

REPO_ROOT = Path(__file__).resolve().parents[3]


# `r2cnn` as a terminal starts it: Ctrl-C raises KeyboardInterrupt even when this test runs where SIGINT is
# ignored (a background job of a non-interactive shell, which Python would otherwise honour in the child).
_AS_FROM_A_TERMINAL = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'r2cnn'; runpy.run_module('engine.cli.main', run_name='__main__')"
)


def _command(inputs, outdir, model) -> list[str]:
    return [
        sys.executable, "-c", _AS_FROM_A_TERMINAL, "detect-archive", str(inputs), "-o", str(outdir), "--model", model,
        "--workers", "2", "--threads-per-worker", "1", "--dashboard-address", ":0",
    ]


@pytest.mark.slow
def test_ctrl_c_keeps_finished_scenes_leaves_nothing_partial_and_the_same_command_resumes(archive_data, tmp_path):
    folder, outdir = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    reference = {}
    for copy in range(12):  # 60 scenes of well under a second each on two workers: most left after the first
        for path in archive_data.good:
            named = folder / f"{copy}_{os.path.basename(path)}"
            reference[shutil.copy(path, str(named))] = archive_data.reference[path]
    command = _command(folder, outdir, archive_data.model)
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "] done " in line or not line:
                break
        assert "dashboard: http://" in "".join(lines)
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the driver and its workers (this test's own)
        rest = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = "".join(lines) + rest
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    catalogue = read_catalogue(str(outdir / "catalogue.gpkg"))
    done = {path: record for path, record in catalogue.items() if record.status == "done"}
    assert done and len(done) < len(reference), stderr
    assert {r.status for r in catalogue.values()} <= {"done", "skipped"} and len(catalogue) == len(reference)
    assert temporaries(outdir) == []
    for name in os.listdir(outdir / "scenes"):  # whole files only (a scene may have been published unrecorded)
        assert ogr.Open(str(outdir / "scenes" / name)).GetLayerByName("aircraft") is not None
    kept = {path: os.stat(outdir / record.output).st_mtime_ns for path, record in done.items()}

    resumed = subprocess.run(command, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(reference)} scenes: {len(kept)} already done, {len(reference) - len(kept)} to run" in resumed.stderr
    catalogue = read_catalogue(str(outdir / "catalogue.gpkg"))
    assert {path: os.stat(outdir / catalogue[path].output).st_mtime_ns for path in kept} == kept  # not redone
    for path, answer in reference.items():
        assert catalogue[path].status == "done"
        assert scene_answer(str(outdir / catalogue[path].output)) == answer


def test_bad_input_is_one_line_and_exit_2_before_any_cluster_starts(archive_data, tmp_path, capsys):
    cases = [
        ([str(tmp_path / "nothing.tif"), "-o", str(tmp_path / "out")], "input not found: "),
        ([str(archive_data.folder), "-o", archive_data.good[0]], "is a file, not an output folder"),
        ([str(archive_data.folder), "-o", str(tmp_path / "no" / "out")], "does not exist"),
        ([str(archive_data.folder), "-o", str(tmp_path / "o"), "--model", str(tmp_path / "m.onnx")], "model"),
        ([str(archive_data.folder), "-o", str(tmp_path / "o"), "--scheduler", "tcp://h:1", "--workers", "2"],
         "not with --scheduler"),
    ]
    for argv, message in cases:
        assert main(["detect-archive", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("r2cnn detect-archive: error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
