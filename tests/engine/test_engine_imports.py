"""engine/ must stay free of QGIS and Qt: import every module in a clean interpreter and check."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: the plugin tests of the same session import qgis into this one.
_CHILD = r"""
import importlib, json, pkgutil, sys
import engine

def forbidden():
    return sorted(m for m in sys.modules if m.split(".")[0].lower().startswith(("qgis", "pyqt")))

imported, failed, leaks = [], {}, {}
for info in pkgutil.walk_packages(engine.__path__, prefix="engine."):
    if info.name.rsplit(".", 1)[-1] == "__main__":  # importing it would run it (python -m ...)
        continue
    before = set(forbidden())
    try:
        importlib.import_module(info.name)
        imported.append(info.name)
    except Exception as exc:  # report every broken module, not just the first
        failed[info.name] = f"{type(exc).__name__}: {exc}"
    new = sorted({m.split(".")[0] for m in set(forbidden()) - before})
    if new:
        leaks[info.name] = new
print(json.dumps({"imported": imported, "failed": failed, "leaks": leaks, "forbidden": forbidden()}))
"""


def _import_everything() -> dict:
    """Import all of engine/ in a child interpreter; return what it imported, what failed, what leaked."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # cwd first on sys.path: this checkout's engine/
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_engine_module_imports_without_qgis_or_qt():
    """One pass covers both rules: every module imports, and none of them pulls in qgis or PyQt."""
    report = _import_everything()
    assert "engine.cli.main" in report["imported"]
    assert report["failed"] == {}, f"engine modules that do not import: {report['failed']}"
    assert report["forbidden"] == [], f"engine/ pulled in QGIS/Qt (module -> packages): {report['leaks']}"
