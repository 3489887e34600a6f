"""Run pip for QGIS's Python in a QProcess, resolve then install, so QGIS stays responsive meanwhile."""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from qgis.PyQt.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

from .pip_plan import (
    constraints_text,
    install_command,
    installed_distributions,
    pins_from_report,
    pip_environment,
    resolve_command,
)


def summary_of(output: str) -> str:
    """pip's own error line ('ERROR: ...'), else its last line: what the dialog says in one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["pip printed nothing"])[0 if errors else -1]


class PipInstaller(QObject):
    """Installs requirements for one interpreter into one folder; the dialog only sees its two signals."""

    output = pyqtSignal(str)  # text as pip prints it, stdout and stderr merged
    finished = pyqtSignal(bool, str)  # success, one line saying what happened

    def __init__(self, python: str, target: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.python = python
        self.target = Path(target)
        self.process: QProcess | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._text = ""
        self._pins: list[str] = []
        self._cancelled = False

    def start(self, requirements: list[str]) -> None:
        """Step 1: resolve against everything QGIS's Python has, pinned by a constraints file."""
        self._workdir = tempfile.TemporaryDirectory(prefix="r2cnn-pip-")
        folder = Path(self._workdir.name)
        constraints = folder / "constraints.txt"
        names = tuple(re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0] for requirement in requirements)
        constraints.write_text(constraints_text(installed_distributions(), exclude=names), encoding="utf-8")
        self._report = folder / "report.json"
        self._run(resolve_command(self.python, requirements, constraints, self._report), self._after_resolve)

    def cancel(self) -> None:
        """Stop pip; what step 2 already copied stays in the folder and is replaced by the next install."""
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self._cancelled = True
            self.process.kill()

    def _run(self, command: list[str], then: Callable[[int, QProcess.ExitStatus], None]) -> None:
        """Start one pip command; its output streams to `output`, its end calls `then`."""
        self._text = ""
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        environment = QProcessEnvironment()
        for key, value in pip_environment(dict(os.environ), self.target).items():
            environment.insert(key, value)
        process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(then)
        process.errorOccurred.connect(self._on_error)
        self.process = process
        self.output.emit("$ " + " ".join(command) + "\n")
        process.start(command[0], command[1:])

    def _read(self) -> None:
        """Forward pip's output as it arrives (kept too, for the one-line summary)."""
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", errors="replace")
        self._text += text
        self.output.emit(text)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        """Only a failed start is final here; crashes and kills also reach `finished`."""
        if error == QProcess.ProcessError.FailedToStart:
            self._finish(False, f"{self.python} could not be started: {self.process.errorString()}")

    def _after_resolve(self, code: int, status: QProcess.ExitStatus) -> None:
        """Step 2: install what the report lists and QGIS's Python lacks, without dependencies."""
        if status != QProcess.ExitStatus.NormalExit or code != 0:
            self._finish(False, f"pip found no versions that fit QGIS's packages: {summary_of(self._text)}")
            return
        try:
            report = json.loads(self._report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self._finish(False, f"pip wrote no readable report ({exc}); is its version older than 22.2?")
            return
        self._pins = pins_from_report(report, installed_distributions())
        if not self._pins:
            self._finish(True, "pip reports that nothing needs installing")
            return
        self.target.mkdir(parents=True, exist_ok=True)
        self._run(install_command(self.python, self.target, self._pins), self._after_install)

    def _after_install(self, code: int, status: QProcess.ExitStatus) -> None:
        """Report the pins installed, or pip's error line."""
        if status != QProcess.ExitStatus.NormalExit or code != 0:
            self._finish(False, f"pip could not install {', '.join(self._pins)}: {summary_of(self._text)}")
            return
        self._finish(True, f"installed {', '.join(self._pins)} into {self.target}")

    def _finish(self, ok: bool, message: str) -> None:
        """One report per start(); the temporary constraints and report files go."""
        if self._cancelled:
            ok, message = False, "cancelled: nothing more is installed"
            self._cancelled = False
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        self.finished.emit(ok, message)
