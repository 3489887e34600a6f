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
