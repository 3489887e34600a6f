import os

import pytest

from engine.atomic_output import atomic_output
from engine.errors import OutputError


def test_output_appears_whole_with_usual_permissions(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        with open(tmp, "w") as handle:
            handle.write("done")
        assert not target.exists()
    assert target.read_text() == "done"
    umask = os.umask(0)
    os.umask(umask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        open(tmp, "w").write("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"), atomic_output(tmp_path / "no" / "x.txt"):
        pass


# Issue 15: exclusive publication, inputs never overwritten, stale temporaries of killed runs removed.

import errno  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zipfile  # noqa: E402

from engine import atomic_output as ao  # noqa: E402


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_without_overwrite_a_file_that_appears_meanwhile_is_left_alone(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(OutputError, match="appeared while"), atomic_output(target, overwrite=False) as tmp:
        open(tmp, "w").write("mine")
        target.write_text("the other run's")  # another run published first
    assert target.read_text() == "the other run's" and os.listdir(tmp_path) == ["out.txt"]


def test_exclusive_publish_without_hard_links_reserves_the_name(tmp_path, monkeypatch):
    def no_links(*_args):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with atomic_output(tmp_path / "a.txt", overwrite=False) as tmp:
        open(tmp, "w").write("done")
    assert (tmp_path / "a.txt").read_text() == "done" and os.listdir(tmp_path) == ["a.txt"]
    with pytest.raises(OutputError, match="appeared"), atomic_output(tmp_path / "b.txt", overwrite=False) as tmp:
        open(tmp, "w").write("mine")
        (tmp_path / "b.txt").write_text("keep")
    assert (tmp_path / "b.txt").read_text() == "keep" and sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt"]


def test_a_set_of_outputs_is_published_whole_or_taken_back(tmp_path):
    first = ao.StagedOutput(str(tmp_path / "stats.json"), ".json")
    second = ao.StagedOutput(str(tmp_path / "out.txt"), ".txt")
    for staged in (first, second):
        open(staged.tmp, "w").write("x")
    (tmp_path / "out.txt").write_text("another run's")
    with pytest.raises(OutputError, match="appeared"):
        ao.publish_all([first, second])
    first.discard(), second.discard()
    assert sorted(os.listdir(tmp_path)) == ["out.txt"] and (tmp_path / "out.txt").read_text() == "another run's"


def test_an_input_is_never_an_output_whatever_the_spelling(tmp_path):
    raster = tmp_path / "scene.gpkg"
    raster.write_bytes(b"raster")
    os.link(raster, tmp_path / "hard.gpkg")
    os.symlink(raster, tmp_path / "soft.gpkg")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr("x.tif", b"raster")
    for output, inputs in (
        (raster, [str(raster)]),
        (tmp_path / "sub" / ".." / "scene.gpkg", [str(raster)]),
        (tmp_path / "hard.gpkg", [str(raster)]),
        (tmp_path / "soft.gpkg", [str(raster)]),
        (tmp_path / "a.zip", [f"/vsizip/{tmp_path}/a.zip/x.tif"]),
        (raster, [f"GPKG:{raster}:tiles"]),
    ):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError, match="is an input"), atomic_output(output, protect=inputs):
            pass
    assert raster.read_bytes() == b"raster"


def test_repeated_inputs_are_dropped_in_order(tmp_path):
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    a.write_bytes(b"a"), b.write_bytes(b"b")
    os.symlink(a, tmp_path / "link.tif")
    kept, dropped = ao.unique_inputs([str(a), str(b), f"{tmp_path}/./a.tif", str(tmp_path / "link.tif")])
    assert kept == [str(a), str(b)] and [d for d, _ in dropped] == [f"{tmp_path}/./a.tif", str(tmp_path / "link.tif")]


def test_temporaries_of_dead_runs_on_this_host_are_removed_and_others_kept(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    host = ao.temp_path("x", "").split(".r2cnn.")[1].split(".")[0]
    names = {
        f".out.gpkg.r2cnn.{host}.{dead}.ab12cd34.tmp.gpkg": False,
        f".out.gpkg.r2cnn.{host}.{dead}.ab12cd34.tmp.gpkg-journal": False,
        f".out.gpkg.r2cnn.{host}.{alive}.ab12cd34.tmp.gpkg": True,  # a run still writing
        f".out.gpkg.r2cnn.otherhost.{dead}.ab12cd34.tmp.gpkg": True,  # a shared folder: not ours to judge
        ".out.gpkg.kl3j4h5g.tmp.gpkg": True,  # no owner in the name
        "out.gpkg": True,
    }
    for name in names:
        (tmp_path / name).write_bytes(b"")
    removed = ao.remove_stale_temporaries(str(tmp_path))
    assert sorted(removed) == sorted(n for n, keep in names.items() if not keep)
    assert sorted(os.listdir(tmp_path)) == sorted(n for n, keep in names.items() if keep)


def test_an_os_error_always_has_a_reason():
    assert ao.reason(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"
    assert ao.reason(OSError()) == "OSError"


def test_a_temporary_without_suffix_is_removed_too(tmp_path):
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "plain", suffix="") as tmp:
        open(tmp, "w").write("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
