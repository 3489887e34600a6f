"""Headless QGIS for the plugin tests: one QgsApplication with Processing per test session."""
from __future__ import annotations

import os
import sys

import pytest

QGIS_PLUGINS_DIR = "/usr/share/qgis/python/plugins"


@pytest.fixture(scope="session")
def qgis_app():
    """Start QGIS offscreen once (about 1.5 s); Processing is initialised so processing.run() works."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qgis_core = pytest.importorskip("qgis.core", reason="python3-qgis is not installed")
    if QGIS_PLUGINS_DIR not in sys.path:
        sys.path.append(QGIS_PLUGINS_DIR)

    app = qgis_core.QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    yield app
    app.exitQgis()
