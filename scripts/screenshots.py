"""Take the README's picture of the real QGIS window: `make screenshots` (Debian's qgis and xvfb needed).

Generates a scene (`r2cnn generate`), builds the plugin zip (scripts/package_plugin.py) and unpacks it
into a throw-away QGIS profile, as *Install from ZIP* would, starts `qgis` under Xvfb with
scripts/screenshot_in_qgis.py, which runs *Detect aircraft in active layer* through the plugin and grabs
the screen, then checks what it reported.
Usage: python scripts/screenshots.py [--out docs/quicklook_qgis.png] [--keep DIR] [--timeout-s 900]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DRIVER = REPO_ROOT / "scripts" / "screenshot_in_qgis.py"
SCREEN = (1600, 1000)
SCENE = dict(width=2048, height=2048, seed=7, airports=2)  # the demo scene (r2cnn demo's defaults)
QGIS_SETTINGS = """[PythonPlugins]
r2cnn_qgis=true
processing=true

[qgis]
checkVersion=false
showTips=false
allowVersionInformation=false

[app]
askToSaveMemoryLayers=false

[core]
NewsFeed\\httpsfeedqgisorg\\disabled=true
"""


class ScreenshotError(Exception):
    """Something needed is missing or QGIS did not report back: one line, exit status 2."""


def generate_scene(path: Path) -> None:
    """The engine's synthetic scene with known aircraft, through its CLI as a user would make it."""
    command = [sys.executable, "-m", "engine.cli.main", "generate", str(path), "--overwrite"]
    for key, value in SCENE.items():
        command += [f"--{key}", str(value)]
    subprocess.run(command, check=True, cwd=REPO_ROOT)


def make_profile(profiles: Path, plugin_zip: Path) -> Path:
    """profiles/default with the packaged plugin unpacked and enabled, and no start-up dialogs."""
    profile = profiles / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as archive:
        archive.extractall(plugins)
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text(QGIS_SETTINGS, encoding="utf-8")
    link_runtime_packages(profile)
    return profile


def link_runtime_packages(profile: Path) -> None:
    """The plugin's package folder (what the install dialog fills) -> this .venv's site-packages.

    QGIS runs the system Python, which lacks onnxruntime here; the plugin appends that folder to sys.path
    (after QGIS's own packages), exactly as after an install, without downloading anything.
    """
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    folder = profile / "r2cnn_packages" / version
    folder.parent.mkdir(parents=True)
    folder.symlink_to(Path(sysconfig.get_paths()["purelib"]), target_is_directory=True)


def run_qgis(work: Path, scene: Path, shot: Path, timeout_s: int) -> dict:
    """qgis under xvfb-run with the driver; its JSON report (or ScreenshotError)."""
    report = work / "report.json"
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(work), "R2CNN_SHOT_SCENE": str(scene), "R2CNN_SHOT_OUT": str(shot),
        "R2CNN_SHOT_REPORT": str(report), "QT_QPA_PLATFORM": "xcb",
    }
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24", "qgis", "--noversioncheck",
               "--nologo", "--profiles-path", str(work / "profiles"), "--code", str(DRIVER)]
    log = work / "qgis.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while process.poll() is None and not report.is_file() and time.monotonic() < deadline:
            time.sleep(1)
        try:  # the driver quits QGIS once it has reported; a hung exit is not worth waiting for
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    if not report.is_file():
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise ScreenshotError(f"QGIS wrote no report (log {log}):\n{tail}")
    return json.loads(report.read_text())


def main(argv: list[str] | None = None) -> int:
    """Generate, run QGIS, check its report, copy the PNG into place."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "quicklook_qgis.png")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one, removed)")
    parser.add_argument("--timeout-s", type=int, default=900, help="give up on QGIS after this long")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("qgis", "xvfb-run") if shutil.which(tool) is None]
    if missing:
        print(f"screenshots: error: {' and '.join(missing)} not found (Debian: apt install qgis xvfb)",
              file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="r2cnn-shots-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        scene, shot = work / "scene.tif", work / "shot.png"
        generate_scene(scene)
        plugin_zip = work / "r2cnn_qgis.zip"
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "package_plugin.py"), "--out", str(plugin_zip)],
                       check=True, cwd=REPO_ROOT)
        make_profile(work / "profiles", plugin_zip)
        report = run_qgis(work, scene, shot, args.timeout_s)
        if report.get("error") or not shot.is_file():
            raise ScreenshotError(f"QGIS reported: {report.get('error') or 'no picture'}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, args.out)
    except (ScreenshotError, subprocess.CalledProcessError) as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{args.out}: {report['aircraft']} aircraft, {report['labelled']} labelled in view at "
          f"1:{report['scale']:.0f}, dock on {report['dock_layer']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
