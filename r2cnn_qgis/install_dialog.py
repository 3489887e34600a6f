"""The install dialog: lists what the engine cannot import and installs it for QGIS's own Python.

Packages go into a folder of the QGIS profile (appended to sys.path), through
PipInstaller (or, in tests, any object with the same start/output/finished), and the import is retried
at once, so no restart is needed when it works.
"""
from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtGui import QFontDatabase, QTextCursor
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from .dependencies import REQUIREMENTS, Requirement, activate_packages_dir, import_error, plugin_packages_dir
from .install_process import PipInstaller
from .interpreter import FinderResult, find_qgis_python

TITLE = "R2-CNN aircraft detection: install dependencies"
CHOICE_LABELS = {"onnxruntime": "for the CPU", "onnxruntime-gpu": "for NVIDIA GPUs (CUDA)"}
INTRO = (
    "The plugin needs these Python packages in QGIS's own Python. They are installed into a folder of "
    "your QGIS profile, so the packages QGIS already uses (numpy and others) are never replaced or "
    "hidden, and the plugin uses them without a restart."
)


class _Row:
    """One requirement: a checkbox, the import status and, when there is a choice, the pip distribution."""

    def __init__(self, requirement: Requirement, prefer_gpu: bool):
        self.requirement = requirement
        kind = "" if requirement.required else " (optional)"
        self.checkbox = QCheckBox(f"{requirement.module}{kind}: {requirement.purpose}")
        self.status = QLabel()
        self.choice = QComboBox()
        for name in requirement.pip_names:
            self.choice.addItem(f"{name} ({CHOICE_LABELS[name]})" if name in CHOICE_LABELS else name, name)
        gpu = "onnxruntime-gpu"
        if prefer_gpu and gpu in requirement.pip_names:
            self.choice.setCurrentIndex(requirement.pip_names.index(gpu))
        self.choice.setVisible(len(requirement.pip_names) > 1)
        self.error: str | None = None

    def refresh(self) -> None:
        """Re-try the import; a missing required module is ticked, an importable one cannot be."""
        self.error = import_error(self.requirement.module)
        missing = self.error is not None
        self.status.setText("missing" if missing else "installed")
        self.status.setToolTip(self.error or "")
        self.checkbox.setEnabled(missing)
        self.choice.setEnabled(missing)
        self.checkbox.setChecked(missing and self.requirement.required)

    def pip_name(self) -> str:
        """The distribution chosen for this module (onnxruntime or onnxruntime-gpu, say)."""
        return str(self.choice.currentData())


class InstallDialog(QDialog):
    """Non-modal: pip runs in a QProcess and its output scrolls by while QGIS stays usable."""

    ready = pyqtSignal()  # every required module imports now

    def __init__(
        self,
        parent=None,
        requirements: tuple[Requirement, ...] = REQUIREMENTS,
        finder: Callable[[], FinderResult] = find_qgis_python,
        installer_factory: Callable[[str, Path], PipInstaller] = PipInstaller,
        target: Path | None = None,
        prefer_gpu: bool | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("R2cnnInstallDialog")
        self.installer_factory = installer_factory
        self.target = Path(target) if target is not None else plugin_packages_dir()
        self.installer = None
        self.found = finder()
        gpu = shutil.which("nvidia-smi") is not None if prefer_gpu is None else prefer_gpu
        self.rows = [_Row(requirement, gpu) for requirement in requirements]

        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.python_label = QLabel(self.found.describe())
        self.python_label.setWordWrap(True)
        form.addRow("QGIS's Python:", self.python_label)
        form.addRow("Installed into:", QLabel(str(self.target)))
        grid = QGridLayout()
        for index, row in enumerate(self.rows):
            grid.addWidget(row.checkbox, index, 0)
            grid.addWidget(row.choice, index, 1)
            grid.addWidget(row.status, index, 2)
        packages = QGroupBox("Packages")
        packages.setLayout(grid)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setPlaceholderText("pip's output appears here.")
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.install_button = QPushButton("Install")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.install_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.install_button.clicked.connect(self.start_install)
        for row in self.rows:
            row.checkbox.toggled.connect(lambda _checked: self._update_install_button())

        column = QVBoxLayout(self)
        column.addWidget(intro)
        column.addLayout(form)
        column.addWidget(packages)
        column.addWidget(self.log, 1)
        column.addWidget(self.status_label)
        column.addWidget(buttons)
        self.resize(720, 480)
        self.refresh()

    def refresh(self) -> None:
        """Re-check every import and say what the Install button would do."""
        for row in self.rows:
            row.refresh()
        self._update_install_button()
        self.status_label.setText(self._blocker() or self._summary())

    def _update_install_button(self) -> None:
        """Install is offered only when something is ticked and pip can run (not after a success)."""
        can_run = self.installer is None and self._blocker() is None
        self.install_button.setEnabled(can_run and bool(self.selected_requirements()))

    def missing_required(self) -> list[str]:
        """Required modules that still fail to import."""
        return [row.requirement.module for row in self.rows if row.requirement.required and row.error]

    def selected_requirements(self) -> list[str]:
        """The pip distributions of the ticked rows, as pip's command line will name them."""
        return [row.pip_name() for row in self.rows if row.checkbox.isChecked() and row.checkbox.isEnabled()]

    def start_install(self) -> None:
        """Hand the ticked distributions to the installer; the buttons wait until it reports back."""
        requirements = self.selected_requirements()
        if self._blocker() is not None or not requirements or self.target is None:
            return
        self.log.clear()
        self.install_button.setEnabled(False)
        self.status_label.setText(f"Installing {', '.join(requirements)} \u2026")
        self.installer = self.installer_factory(self.found.interpreter.path, self.target)
        self.installer.output.connect(self._append)
        self.installer.finished.connect(self._on_finished)
        self.installer.start(requirements)

    def reject(self) -> None:
        """Closing stops a running pip rather than leaving it behind."""
        if self.installer is not None:
            self.installer.cancel()
        super().reject()

    def _append(self, text: str) -> None:
        """pip's output as it comes, without the extra line breaks appendPlainText would add."""
        self.log.moveCursor(QTextCursor.MoveOperation.End)
        self.log.insertPlainText(text)
        self.log.ensureCursorVisible()

    def _on_finished(self, ok: bool, message: str) -> None:
        """Put the folder on sys.path, retry the imports, say in one line what works now."""
        self.installer = None
        activate_packages_dir(self.target)
        self.refresh()
        still = self.missing_required()
        if ok and not still:
            self.status_label.setText(f"Done: {message}. The plugin can detect aircraft now.")
            self.ready.emit()
        elif ok:
            errors = "; ".join(f"{row.requirement.module}: {row.error}" for row in self.rows if row.error)
            self.status_label.setText(f"pip finished ({message}), but imports still fail ({errors}). "
                                      "Restart QGIS and open this dialog again.")
        else:
            self.status_label.setText(f"Installation failed: {message} (pip's full output is above).")

    def _blocker(self) -> str | None:
        """Why nothing can be installed from here, or None."""
        interpreter = self.found.interpreter
        if interpreter is None:
            return f"{self.found.describe()}; install the packages by hand with QGIS's Python and pip."
        if not interpreter.has_pip:
            hint = " (Debian, Ubuntu: sudo apt install python3-pip)" if sys.platform.startswith("linux") else ""
            return f"QGIS's Python ({interpreter.path}) has no pip{hint}."
        if self.target is None:
            return "QGIS's profile folder is unknown, so there is no folder to install into."
        return None

    def _summary(self) -> str:
        """What is missing, or that nothing is."""
        missing = self.missing_required()
        if missing:
            return f"Missing: {', '.join(missing)}. Install adds the ticked packages."
        return "Everything the plugin needs imports. Tick an optional package to add it."
