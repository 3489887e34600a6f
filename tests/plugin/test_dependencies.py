"""The missing-dependency notice: which modules are missing, and the exact pip command for QGIS's Python."""
from __future__ import annotations

import shlex
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import REPO_ROOT  # noqa: E402


def test_missing_modules_lists_only_what_fails_to_import(monkeypatch):
    from r2cnn_qgis import dependencies

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert dependencies.missing_modules(("json", "onnxruntime", "no_such_module_r2cnn")) == [
        "onnxruntime", "no_such_module_r2cnn"
    ]
    assert dependencies.missing_modules(("json",)) == []


def test_message_is_none_when_everything_imports():
    from r2cnn_qgis.dependencies import missing_dependency_message

    assert missing_dependency_message() is None  # this environment has onnxruntime and rasterio


def test_install_command_for_a_system_python_under_pep_668(monkeypatch):
    import numpy

    from r2cnn_qgis import dependencies

    monkeypatch.setattr(dependencies, "_in_virtualenv", lambda: False)
    monkeypatch.setattr(dependencies, "_externally_managed", lambda: True)
    words = shlex.split(dependencies.install_command(["onnxruntime"]))
    assert words[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--user" in words and "--break-system-packages" in words
    assert "onnxruntime" in words
    assert f"numpy=={numpy.__version__}" in words  # pip must not replace QGIS's numpy


def test_install_command_inside_a_virtualenv_has_no_user_flag(monkeypatch):
    from r2cnn_qgis import dependencies

    monkeypatch.setattr(dependencies, "_in_virtualenv", lambda: True)
    words = shlex.split(dependencies.install_command(["onnxruntime", "rasterio"]))
    assert "--user" not in words and "--break-system-packages" not in words
    assert words[-3:-1] == ["onnxruntime", "rasterio"]


def test_python_executable_when_sys_executable_is_the_qgis_binary(monkeypatch, tmp_path):
    from r2cnn_qgis import dependencies

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (tmp_path / "bin").mkdir()
    interpreter = tmp_path / "bin" / f"python{version}"
    interpreter.write_text("")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "qgis-bin"))
    monkeypatch.setattr(sys, "exec_prefix", str(tmp_path))
    assert dependencies.python_executable() == str(interpreter)
    monkeypatch.setattr(sys, "exec_prefix", str(tmp_path / "nowhere"))
    assert dependencies.python_executable() == f"python{version}"


def test_engine_is_found_beside_the_plugin_in_a_checkout():
    from r2cnn_qgis.dependencies import ensure_engine_importable

    assert ensure_engine_importable() == REPO_ROOT
    assert str(REPO_ROOT) in sys.path


def test_a_foreign_engine_package_is_refused_clearly(monkeypatch, tmp_path):
    from r2cnn_qgis.dependencies import ensure_engine_importable

    foreign = types.ModuleType("engine")
    foreign.__file__ = str(tmp_path / "other_plugin" / "engine" / "__init__.py")
    monkeypatch.setitem(sys.modules, "engine", foreign)
    with pytest.raises(ImportError, match="another package named 'engine'"):
        ensure_engine_importable()
