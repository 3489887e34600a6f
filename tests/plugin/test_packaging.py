"""`make package`'s zip: its layout, and that it loads through qgis.utils from a fresh profile."""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import AIRCRAFT_PX, REPO_ROOT, write_scene, write_test_model  # noqa: E402

MODEL = REPO_ROOT / "resources" / "models" / "r2cnn_aircraft.onnx"

# Runs in a fresh interpreter whose working folder is not the repository, so only the zip's copy of the
# plugin and of the engine can be imported.
LOADER = textwrap.dedent("""
    import json, os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    profile, scene, model = sys.argv[1:4]
    from qgis.core import QgsApplication
    app = QgsApplication([], False, profile)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    Processing.initialize()
    import qgis.utils
    plugins_dir = os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins")
    qgis.utils.plugin_paths = [plugins_dir]
    sys.path.insert(0, plugins_dir)
    qgis.utils.updateAvailablePlugins()
    out = {"available": "r2cnn_qgis" in qgis.utils.available_plugins,
           "name": qgis.utils.pluginMetadata("r2cnn_qgis", "name"),
           "loaded": qgis.utils.loadPlugin("r2cnn_qgis"),
           "started": qgis.utils.startProcessingPlugin("r2cnn_qgis")}
    registry = QgsApplication.processingRegistry()
    out["algorithm"] = registry.algorithmById("r2cnn:detectaircraft") is not None
    import engine, r2cnn_qgis
    out["plugin_file"], out["engine_file"] = r2cnn_qgis.__file__, engine.__file__
    import processing
    result = processing.run("r2cnn:detectaircraft", {"INPUT": scene, "MODEL": model, "OUTPUT": "memory:"})
    out["detections"] = result["DETECTIONS"]
    out["unloaded"] = qgis.utils.unloadPlugin("r2cnn_qgis")
    out["provider_after_unload"] = registry.providerById("r2cnn") is not None
    print("RESULT " + json.dumps(out))
""")


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    """Build the zip with the repository's script, as `make package` does."""
    out = tmp_path_factory.mktemp("package") / "r2cnn_qgis.zip"
    command = [sys.executable, str(REPO_ROOT / "scripts" / "package_plugin.py"), "--out", str(out)]
    if not MODEL.is_file():
        command.append("--allow-missing-model")  # the trained model is not in the repository yet
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert f"{out}: " in completed.stdout and " MB (" in completed.stdout  # it prints the size
    return out


def test_zip_has_one_top_folder_with_plugin_engine_resources_and_no_tests(plugin_zip):
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {name.split("/", 1)[0] for name in names} == {"r2cnn_qgis"}
    for required in ("__init__.py", "metadata.txt", "plugin.py", "provider.py", "detect_algorithm.py",
                     "engine/__init__.py", "engine/pipeline/detect.py", "engine/runtime/onnx_runtime.py",
                     "resources/styles/aircraft.qml", "resources/icon.svg", "help/detect_aircraft.html",
                     "help/evaluate_detections.html", "help/help.css"):
        assert f"r2cnn_qgis/{required}" in names, required
    assert ("r2cnn_qgis/resources/models/r2cnn_aircraft.onnx" in names) == MODEL.is_file()
    fast = MODEL.with_name("r2cnn_aircraft.window.int8.onnx")  # the CPU default travels with the plugin
    assert ("r2cnn_qgis/resources/models/r2cnn_aircraft.window.int8.onnx" in names) == fast.is_file()
    assert "r2cnn_qgis/resources/cascade/aircraft_cascade.onnx" in names  # the cascade is on by default
    unwanted = ("__pycache__", ".pyc", "/tests/", "conftest", ".pytest_cache", "blob_model")
    assert not [name for name in names if any(part in name for part in unwanted)]
    assert not [name for name in names if "bench" in name.rsplit("/", 1)[-1] or "/benchmarks/" in name]

    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read_string(zipfile.ZipFile(plugin_zip).read("r2cnn_qgis/metadata.txt").decode("utf-8"))
    general = metadata["general"]
    assert general["qgisMinimumVersion"] == "3.22" and general["hasProcessingProvider"] == "yes"
    assert f"r2cnn_qgis/{general['icon']}" in names


def test_unpacked_zip_loads_through_qgis_utils_in_a_fresh_profile(plugin_zip, tmp_path):
    profile = tmp_path / "profile"
    plugins_dir = profile / "python" / "plugins"
    plugins_dir.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins_dir)
    write_scene(tmp_path / "scene.tif")
    model = write_test_model(tmp_path / "blob.onnx")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = subprocess.run(
        [sys.executable, "-c", LOADER, str(profile), str(tmp_path / "scene.tif"), str(model)],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stdout + completed.stderr
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["available"] and result["loaded"] and result["started"] and result["algorithm"]
    assert result["name"] == "R2-CNN aircraft detection"
    installed = str(plugins_dir / "r2cnn_qgis")
    assert result["plugin_file"].startswith(installed)
    assert result["engine_file"].startswith(installed)  # the bundled engine, not the repository's
    assert result["detections"] == len(AIRCRAFT_PX)
    assert result["unloaded"] and not result["provider_after_unload"]
