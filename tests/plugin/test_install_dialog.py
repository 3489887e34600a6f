"""The install dialog with a fake installer and a fake pip (never the network): success, failure, retry."""
from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
import plugin_helpers  # noqa: E402, F401  (puts the repository on sys.path)

VERSION = tuple(sys.version_info[:3])
FAKE_MODULE = "r2cnn_fake_dep"


@pytest.fixture
def clean_imports(monkeypatch):
    """sys.path and the fake module are restored after each test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    sys.modules.pop(FAKE_MODULE, None)


def fake_requirements():
    from r2cnn_qgis.dependencies import Requirement

    return (
        Requirement(FAKE_MODULE, ("r2cnn-fake-dep",), "stands in for onnxruntime"),
        Requirement("json", ("json-is-stdlib",), "already importable"),
        Requirement("r2cnn_optional_dep", ("r2cnn-optional-dep",), "optional", required=False),
    )


def found(path: str = "/usr/bin/python3", pip: bool = True):
    from r2cnn_qgis.interpreter import FinderResult, Interpreter

    return lambda: FinderResult(Interpreter(path, VERSION, pip))


def make_fake_installer(ok: bool, lines: list[str], create_module: bool):
    """An installer with PipInstaller's interface that 'installs' by writing a module into the target."""
    from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

    class FakeInstaller(QObject):
        output = pyqtSignal(str)
        finished = pyqtSignal(bool, str)
        started_with: list = []

        def __init__(self, python, target):
            super().__init__()
            self.python, self.target = python, Path(target)

        def start(self, requirements):
            FakeInstaller.started_with.append((self.python, list(requirements)))
            QTimer.singleShot(0, self._run)

        def cancel(self):
            pass

        def _run(self):
            for line in lines:
                self.output.emit(line + "\n")
            if create_module:
                (self.target / FAKE_MODULE).mkdir(parents=True, exist_ok=True)
                (self.target / FAKE_MODULE / "__init__.py").write_text("VALUE = 42\n")
            self.finished.emit(ok, "installed r2cnn-fake-dep==1.0" if ok else "pip could not install it")

    return FakeInstaller


def wait_until_idle(dialog, timeout_s: float = 30.0):
    from qgis.core import QgsApplication

    deadline = time.monotonic() + timeout_s
    while dialog.installer is not None and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert dialog.installer is None, "the installer did not report back"


def test_dialog_lists_what_is_missing_and_ticks_only_required_ones(qgis_app, tmp_path, clean_imports):
    from r2cnn_qgis.install_dialog import InstallDialog

    dialog = InstallDialog(requirements=fake_requirements(), finder=found(), target=tmp_path / "pkgs")
    missing, stdlib, optional = dialog.rows
    assert missing.status.text() == "missing" and missing.checkbox.isChecked()
    assert stdlib.status.text() == "installed" and not stdlib.checkbox.isEnabled()
    assert optional.status.text() == "missing" and not optional.checkbox.isChecked()
    assert dialog.selected_requirements() == ["r2cnn-fake-dep"]
    assert dialog.install_button.isEnabled() and FAKE_MODULE in dialog.status_label.text()
    assert "/usr/bin/python3" in dialog.python_label.text()


def test_onnxruntime_gpu_is_offered_and_preferred_with_an_nvidia_gpu(qgis_app, tmp_path, clean_imports):
    from r2cnn_qgis.dependencies import Requirement
    from r2cnn_qgis.install_dialog import InstallDialog

    runtime = (Requirement("r2cnn_no_such_runtime", ("onnxruntime", "onnxruntime-gpu"), "runs the model"),)
    cpu = InstallDialog(requirements=runtime, finder=found(), target=tmp_path, prefer_gpu=False)
    gpu = InstallDialog(requirements=runtime, finder=found(), target=tmp_path, prefer_gpu=True)
    assert cpu.selected_requirements() == ["onnxruntime"] and gpu.selected_requirements() == ["onnxruntime-gpu"]
    assert cpu.rows[0].choice.isVisibleTo(cpu) and cpu.rows[0].choice.count() == 2


def test_success_puts_the_folder_on_sys_path_and_imports_without_restart(qgis_app, tmp_path, clean_imports):
    from r2cnn_qgis.install_dialog import InstallDialog

    target = tmp_path / "pkgs"
    installer = make_fake_installer(True, ["Collecting r2cnn-fake-dep", "Successfully installed"], True)
    dialog = InstallDialog(requirements=fake_requirements(), finder=found("/opt/qgis/python3"),
                           installer_factory=installer, target=target)
    ready = []
    dialog.ready.connect(lambda: ready.append(True))
    dialog.start_install()
    assert not dialog.install_button.isEnabled()  # no second pip while one runs
    wait_until_idle(dialog)

    assert installer.started_with == [("/opt/qgis/python3", ["r2cnn-fake-dep"])]  # QGIS's interpreter
    assert "Collecting r2cnn-fake-dep" in dialog.log.toPlainText()
    assert ready == [True] and dialog.missing_required() == []
    assert dialog.status_label.text().startswith("Done: installed r2cnn-fake-dep==1.0")
    assert sys.path[-1] == str(target)
    assert __import__(FAKE_MODULE).VALUE == 42
    assert dialog.rows[0].status.text() == "installed"
    assert not dialog.install_button.isEnabled()  # nothing left to install
    dialog.rows[2].checkbox.setChecked(True)  # the optional one, ticked by the user
    assert dialog.install_button.isEnabled() and dialog.selected_requirements() == ["r2cnn-optional-dep"]


def test_failure_shows_pips_error_and_allows_a_retry(qgis_app, tmp_path, clean_imports):
    from r2cnn_qgis.install_dialog import InstallDialog

    error = "ERROR: No matching distribution found for r2cnn-fake-dep"
    installer = make_fake_installer(False, ["Collecting r2cnn-fake-dep", error], False)
    dialog = InstallDialog(requirements=fake_requirements(), finder=found(), installer_factory=installer,
                           target=tmp_path / "pkgs")
    ready = []
    dialog.ready.connect(lambda: ready.append(True))
    dialog.start_install()
    wait_until_idle(dialog)
    assert error in dialog.log.toPlainText()
    assert dialog.status_label.text().startswith("Installation failed: pip could not install it")
    assert ready == [] and dialog.missing_required() == [FAKE_MODULE]
    assert dialog.install_button.isEnabled()


def test_pip_that_succeeds_without_making_the_import_work_is_reported(qgis_app, tmp_path, clean_imports):
    from r2cnn_qgis.install_dialog import InstallDialog

    installer = make_fake_installer(True, ["Successfully installed"], False)
    dialog = InstallDialog(requirements=fake_requirements(), finder=found(), installer_factory=installer,
                           target=tmp_path / "pkgs")
    dialog.start_install()
    wait_until_idle(dialog)
    assert "imports still fail" in dialog.status_label.text() and FAKE_MODULE in dialog.status_label.text()


@pytest.mark.parametrize("finder, expected", [
    ("none", "was not found"),
    ("no pip", "has no pip"),
])
def test_no_usable_interpreter_disables_install_and_says_why(qgis_app, tmp_path, finder, expected):
    from r2cnn_qgis.install_dialog import InstallDialog
    from r2cnn_qgis.interpreter import FinderResult

    finders = {"none": lambda: FinderResult(None, ("/usr/bin/python3 is Python 3.9.2, QGIS runs 3.11.2",)),
               "no pip": found(pip=False)}
    dialog = InstallDialog(requirements=fake_requirements(), finder=finders[finder], target=tmp_path)
    assert not dialog.install_button.isEnabled()
    assert expected in dialog.status_label.text()
    dialog.start_install()  # a click that slips through does nothing
    assert dialog.installer is None


FAKE_PIP = textwrap.dedent('''\
    #!{python}
    """Answers `-m pip install ...` like pip would, for the fake distribution only; no network."""
    import json, pathlib, shutil, sys
    args = sys.argv[1:]
    log = pathlib.Path({log!r})
    with log.open("a") as out:
        out.write(" ".join(args) + "\\n")
    if "r2cnn-broken" in args:
        print("Collecting r2cnn-broken")
        print("ERROR: No matching distribution found for r2cnn-broken")
        sys.exit(1)
    if "--dry-run" in args:
        shutil.copy(args[args.index("-c") + 1], str(log) + ".constraints")
        report = {{"install": [{{"metadata": {{"name": "r2cnn-fake-dep", "version": "1.0"}}}},
                              {{"metadata": {{"name": "numpy", "version": "99.0"}}}}]}}
        pathlib.Path(args[args.index("--report") + 1]).write_text(json.dumps(report))
        print("Would install r2cnn-fake-dep-1.0")
    else:
        package = pathlib.Path(args[args.index("--target") + 1]) / "{module}"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("VALUE = 'from the fake pip'\\n")
        print("Successfully installed r2cnn-fake-dep-1.0")
''')


@pytest.mark.skipif(sys.platform == "win32", reason="the fake pip is a script with a shebang line")
@pytest.mark.parametrize("requirement", ["r2cnn-fake-dep", "r2cnn-broken"])
def test_the_real_qprocess_installer_runs_both_pip_steps(qgis_app, tmp_path, clean_imports, requirement):
    import numpy

    from r2cnn_qgis.dependencies import Requirement
    from r2cnn_qgis.install_dialog import InstallDialog

    log = tmp_path / "pip.log"
    fake_pip = tmp_path / "python3"
    fake_pip.write_text(FAKE_PIP.format(python=sys.executable, log=str(log), module=FAKE_MODULE))
    fake_pip.chmod(0o755)
    target = tmp_path / "profile" / "r2cnn_packages" / "python3"
    requirements = (Requirement(FAKE_MODULE, (requirement,), "stands in for onnxruntime"),)
    dialog = InstallDialog(requirements=requirements, finder=found(str(fake_pip)), target=target)
    dialog.start_install()
    wait_until_idle(dialog)

    calls = log.read_text().splitlines()
    assert calls[0].startswith("-m pip install --dry-run")
    if requirement == "r2cnn-broken":
        assert len(calls) == 1 and "No matching distribution found" in dialog.status_label.text()
        assert "ERROR: No matching distribution" in dialog.log.toPlainText()
        return
    assert f"numpy=={numpy.__version__}" in Path(str(log) + ".constraints").read_text().splitlines()
    install = calls[1].split()
    assert install[install.index("--target") + 1] == str(target) and "--no-deps" in install
    assert install[-1] == "r2cnn-fake-dep==1.0"  # numpy, which QGIS's Python has, is not installed
    assert "Successfully installed r2cnn-fake-dep-1.0" in dialog.log.toPlainText()
    assert dialog.status_label.text().startswith("Done:") and dialog.missing_required() == []
    assert __import__(FAKE_MODULE).VALUE == "from the fake pip"
