"""Finding QGIS's own interpreter: per-platform candidates, each verified by running it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import REPO_ROOT  # noqa: E402

VERSION = tuple(sys.version_info[:3])
MAJOR_MINOR = f"{VERSION[0]}.{VERSION[1]}"
OTHER_VERSION = (VERSION[0], VERSION[1], VERSION[2] + 5)  # e.g. a pyenv shim's newer patch release


def fake_interpreter(path: Path, version: tuple[int, int, int], pip: bool = True) -> Path:
    """An executable that answers the finder's probe like a Python of that version would."""
    answer = json.dumps({"version": list(version), "pip": pip})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)
    return path


def test_linux_candidates_put_the_distribution_python_before_a_pyenv_shim():
    from r2cnn_qgis.interpreter import candidate_paths

    existing = {"/root/.pyenv/shims/python3", "/usr/bin/python3.11", "/usr/bin/python3"}
    found = candidate_paths("linux", "/root/.pyenv/shims/python3", "/usr", "/usr", (3, 11, 2),
                            is_file=existing.__contains__)
    assert found == ["/usr/bin/python3.11", "/usr/bin/python3", "/root/.pyenv/shims/python3"]
    # sys.executable is the QGIS binary itself: it is never a candidate
    found = candidate_paths("linux", "/usr/bin/qgis.bin", "/usr", "/usr", (3, 11, 2), is_file=existing.__contains__)
    assert "/usr/bin/qgis.bin" not in found and found[0] == "/usr/bin/python3.11"


def test_windows_osgeo4w_candidates_are_the_python_exe_of_sys_prefix_and_next_to_qgis():
    from r2cnn_qgis.interpreter import candidate_paths

    root = "C:\\OSGeo4W"
    existing = {f"{root}\\apps\\Python39\\python.exe", f"{root}\\bin\\python3.exe", f"{root}\\bin\\python39.exe"}
    found = candidate_paths(
        "win32", f"{root}\\bin\\qgis-bin.exe", f"{root}\\apps\\Python39", f"{root}\\apps\\Python39", (3, 9, 18),
        is_file=existing.__contains__, list_glob=lambda pattern: [f"{root}\\bin\\python39.exe"],
    )
    assert found == [f"{root}\\apps\\Python39\\python.exe", f"{root}\\bin\\python3.exe", f"{root}\\bin\\python39.exe"]


def test_macos_candidates_are_inside_the_qgis_app_bundle():
    from r2cnn_qgis.interpreter import candidate_paths

    app = "/Applications/QGIS-LTR.app/Contents"
    framework = f"{app}/Frameworks/Python.framework/Versions/3.9"
    existing = {f"{app}/MacOS/bin/python3", f"{framework}/bin/python3.9"}
    found = candidate_paths("darwin", f"{app}/MacOS/QGIS", framework, framework, (3, 9, 5),
                            is_file=existing.__contains__)
    assert found == [f"{app}/MacOS/bin/python3", f"{framework}/bin/python3.9"]


def test_a_candidate_of_another_version_is_passed_over_with_the_reason(tmp_path):
    from r2cnn_qgis.interpreter import find_qgis_python

    shim = fake_interpreter(tmp_path / "shims" / "python3", OTHER_VERSION)
    right = fake_interpreter(tmp_path / "usr" / "bin" / f"python{MAJOR_MINOR}", VERSION, pip=False)
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho no json here; exit 1\n")
    broken.chmod(0o755)
    result = find_qgis_python(candidates=[str(shim), str(broken), str(right)])
    assert result.interpreter is not None and result.interpreter.path == str(right)
    assert result.interpreter.version == VERSION and result.interpreter.has_pip is False
    other = ".".join(map(str, OTHER_VERSION))
    assert any(str(shim) in reason and other in reason for reason in result.rejected)
    assert any(str(broken) in reason and "not a usable Python" in reason for reason in result.rejected)
    assert str(right) in result.describe()


def test_nothing_found_says_what_was_tried(tmp_path):
    from r2cnn_qgis.interpreter import find_qgis_python

    missing = str(tmp_path / "no" / "python")
    result = find_qgis_python(candidates=[missing])
    assert result.interpreter is None
    assert "not found" in result.describe() and missing in result.describe()


def test_the_finder_verifies_this_very_interpreter():
    from r2cnn_qgis.interpreter import find_qgis_python

    result = find_qgis_python()
    assert result.interpreter is not None, result.describe()
    assert result.interpreter.version == VERSION and result.interpreter.has_pip


@pytest.mark.skipif(not Path(f"/usr/bin/python{MAJOR_MINOR}").is_file(), reason="no system Python of this version")
def test_inside_qgis_python_a_shim_on_path_is_not_taken(tmp_path):
    """QGIS's own interpreter with the plugin imported and sys.executable pointing at a pyenv-like shim."""
    shim = fake_interpreter(tmp_path / "shims" / "python3", OTHER_VERSION)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.executable = sys.argv[2]\n"
        "from r2cnn_qgis.interpreter import find_qgis_python\n"
        "found = find_qgis_python().interpreter\n"
        "print(found.path if found else 'NONE')\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    completed = subprocess.run([f"/usr/bin/python{MAJOR_MINOR}", "-c", code, str(REPO_ROOT), str(shim)],
                               capture_output=True, text=True, timeout=60, env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == f"/usr/bin/python{MAJOR_MINOR}"
