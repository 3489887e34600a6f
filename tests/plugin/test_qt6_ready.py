"""QGIS 4 (Qt6) readiness: the plugin loads on Qt6 builds only when it is written for both Qt5 and Qt6.

QGIS 4 loads plugins that declare supportsQt6; PyQt6 drops the spellings PyQt5 allowed: enum members
reached through their class instead of their enum (Qt.Horizontal, Qgis.Warning), QVariant's type enum,
exec_(), QAction in QtWidgets, and imports from PyQt5 itself. This test reads every plugin module and
resolves each dotted name against the PyQt5 / QGIS 3 objects, so a new unscoped enum fails here.
"""
from __future__ import annotations

import ast
import configparser
import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import REPO_ROOT  # noqa: E402

PLUGIN_SOURCES = sorted((REPO_ROOT / "r2cnn_qgis").glob("*.py"))
COMPAT_MODULE = "qt_compat.py"  # the one place that may name the Qt5-only spelling, behind a version check
QT_ROOTS = ("qgis.PyQt", "qgis.core", "qgis.gui", "PyQt5")


def imported_names(tree: ast.Module) -> dict[str, object]:
    """Names bound by `from qgis... import X` at any level, resolved to the objects (PyQt5 / QGIS 3)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(QT_ROOTS):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def is_sip_enum_member(value) -> bool:
    """A PyQt5 / QGIS enum value: an int subclass defined by sip (not a plain int, not a bool)."""
    kind = type(value)
    return isinstance(value, int) and kind not in (int, bool) and kind.__module__.split(".")[0] in ("PyQt5", "qgis")


def unscoped_enums(tree: ast.Module, names: dict[str, object]) -> list[str]:
    """Every A.B(.C) whose value is an enum member not reached through its own enum type."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)):
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.insert(0, base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in names:
            continue
        owner, value = None, names[base.id]
        for part in chain:
            if not hasattr(value, part):
                break
            owner, value = value, getattr(value, part)
        else:
            if is_sip_enum_member(value) and owner is not type(value):
                found.append(f"line {node.lineno}: {base.id}.{'.'.join(chain)}")
    return found


def pyqt5_only_spellings(path: Path) -> list[str]:
    """What PyQt6 / QGIS 4 refuses, found in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = unscoped_enums(tree, imported_names(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            problems += [f"line {node.lineno}: imports {m} (use qgis.PyQt)" for m in modules
                         if m.split(".")[0] in ("PyQt5", "PyQt6", "sip")]
            if isinstance(node, ast.ImportFrom) and node.module == "qgis.PyQt.QtWidgets" and path.name != COMPAT_MODULE:
                problems += [f"line {node.lineno}: QAction from QtWidgets (QtGui in Qt6)"
                             for a in node.names if a.name in ("QAction", "QActionGroup", "QShortcut")]
        if isinstance(node, ast.Attribute) and node.attr in ("exec_", "print_"):
            problems.append(f"line {node.lineno}: {node.attr}() (removed in PyQt6)")
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "QVariant"
                and node.attr[:1].isupper() and path.name != COMPAT_MODULE):
            problems.append(f"line {node.lineno}: QVariant.{node.attr} (QMetaType.Type in Qt6)")
    return problems


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: p.name)
def test_plugin_module_has_no_pyqt5_only_spelling(qgis_app, path):
    assert pyqt5_only_spellings(path) == []


def test_the_check_catches_the_spellings_qt6_refuses(tmp_path):
    """The checker itself: each PyQt5-only line is reported, its Qt6-ready twin is not."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from qgis.core import Qgis, QgsMapLayerProxyModel\n"
        "from qgis.PyQt.QtCore import Qt, QVariant\n"
        "from qgis.PyQt.QtWidgets import QAction, QDialogButtonBox\n"
        "a = Qt.Horizontal\n"
        "b = Qt.Orientation.Horizontal\n"
        "c = Qgis.Warning\n"
        "d = Qgis.MessageLevel.Warning\n"
        "e = QDialogButtonBox.Close\n"
        "f = QgsMapLayerProxyModel.PolygonLayer\n"
        "g = QVariant.Double\n"
        "dialog.exec_()\n"
    )
    lines = sorted(int(problem.split(":")[0].split()[1]) for problem in pyqt5_only_spellings(source))
    assert lines == [3, 4, 6, 8, 9, 10, 10, 11]  # line 10: an enum through its class, and QVariant's type


def test_metadata_declares_qt6_support_and_keeps_qgis_3_22():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    assert parser.get("general", "supportsQt6") == "True"
    assert parser.get("general", "qgisMinimumVersion") == "3.22"
