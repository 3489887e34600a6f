"""The missing-dependency notice: which modules are missing, where to install them, the engine on sys.path."""
from __future__ import annotations

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


def test_message_points_at_the_install_dialog_not_at_a_command(monkeypatch):
    from r2cnn_qgis.dependencies import missing_dependency_message

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    message = missing_dependency_message()
    assert message is not None and "\n" not in message
    assert "onnxruntime" in message and "rasterio" not in message
    assert "Raster > R2-CNN aircraft detection > Install dependencies" in message
    assert "pip" not in message and "--user" not in message  # no command for a Python that may be the wrong one


def test_import_error_says_why(monkeypatch):
    from r2cnn_qgis.dependencies import import_error

    assert import_error("json") is None
    assert "ModuleNotFoundError" in import_error("no_such_module_r2cnn")


def test_the_plugin_folder_is_appended_to_sys_path_only_when_it_exists(monkeypatch, tmp_path):
    from r2cnn_qgis.dependencies import activate_packages_dir

    monkeypatch.setattr(sys, "path", list(sys.path))
    folder = tmp_path / "r2cnn_packages" / "python3.11"
    activate_packages_dir(folder)
    assert str(folder) not in sys.path
    folder.mkdir(parents=True)
    (folder / "r2cnn_fake_dependency_a.py").write_text("VALUE = 7\n")
    activate_packages_dir(folder)
    assert sys.path[-1] == str(folder)  # last: it can add modules, never hide QGIS's own
    activate_packages_dir(folder)
    assert sys.path.count(str(folder)) == 1
    import r2cnn_fake_dependency_a

    assert r2cnn_fake_dependency_a.VALUE == 7


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
