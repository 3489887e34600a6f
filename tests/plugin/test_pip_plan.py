"""pip's command lines: constraints from what QGIS's Python has, a plugin folder, nothing system-wide."""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
import plugin_helpers  # noqa: E402, F401  (puts the repository on sys.path)


def test_constraints_pin_numpy_and_what_is_loaded_at_their_versions():
    import numpy
    import rasterio

    from r2cnn_qgis.pip_plan import constraints_text, installed_distributions

    installed = installed_distributions()
    lines = constraints_text(installed).splitlines()
    assert f"numpy=={numpy.__version__}" in lines  # pip must never replace QGIS's numpy
    assert f"rasterio=={rasterio.__version__}" in lines
    assert all(line.count("==") == 1 for line in lines)


def test_constraints_skip_unparsable_versions_and_the_requested_names():
    from r2cnn_qgis.pip_plan import constraints_text

    text = constraints_text({"numpy": "1.24.2", "odd": "2.0-debian~1", "onnxruntime": "1.0", "gdal": "3.6.2+dfsg"},
                            exclude=("onnxruntime",))
    assert text.splitlines() == ["gdal==3.6.2+dfsg", "numpy==1.24.2"]


def test_installed_distributions_sees_a_folder_on_the_path(tmp_path):
    from r2cnn_qgis.pip_plan import installed_distributions

    info = tmp_path / "Fake_Dist-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Fake_Dist\nVersion: 1.2.3\n")
    assert installed_distributions([str(tmp_path)]) == {"fake-dist": "1.2.3"}


def test_resolve_then_install_into_the_plugin_folder_without_dependencies(tmp_path):
    from r2cnn_qgis.pip_plan import install_command, resolve_command

    python = "/usr/bin/python3.11"
    resolve = resolve_command(python, ["onnxruntime"], tmp_path / "c.txt", tmp_path / "r.json")
    assert resolve[:4] == [python, "-m", "pip", "install"]
    assert "--dry-run" in resolve and resolve[resolve.index("--report") + 1] == str(tmp_path / "r.json")
    assert resolve[resolve.index("-c") + 1] == str(tmp_path / "c.txt") and resolve[-1] == "onnxruntime"
    install = install_command(python, tmp_path / "pkgs", ["onnxruntime==1.20.0", "flatbuffers==25.1"])
    assert install[install.index("--target") + 1] == str(tmp_path / "pkgs")
    assert "--no-deps" in install and install[-2:] == ["onnxruntime==1.20.0", "flatbuffers==25.1"]
    for command in (resolve, install):  # never into the system or ~/.local
        assert "--user" not in command and "--break-system-packages" not in command


def test_only_what_qgis_python_lacks_is_installed():
    from r2cnn_qgis.pip_plan import pins_from_report

    report = {"install": [
        {"metadata": {"name": "onnxruntime", "version": "1.20.0"}, "requested": True},
        {"metadata": {"name": "numpy", "version": "2.1.0"}},  # would replace QGIS's numpy
        {"metadata": {"name": "Flat_Buffers", "version": "25.1"}},
    ]}
    assert pins_from_report(report, {"numpy": "1.24.2", "flat-buffers": "24.0"}) == ["onnxruntime==1.20.0"]
    assert pins_from_report({"install": []}, {}) == []


def test_packages_dir_is_per_python_version_under_the_profile(tmp_path):
    from r2cnn_qgis.pip_plan import packages_dir, pip_environment

    assert packages_dir(tmp_path, (3, 9, 18)) == tmp_path / "r2cnn_packages" / "python3.9"
    env = pip_environment({"PATH": "/bin", "PYTHONPATH": "/a"}, tmp_path / "t")
    assert env["PYTHONPATH"] == f"/a{os.pathsep}{tmp_path / 't'}" and env["PATH"] == "/bin"
