"""Fixtures shared by every test: the read-only ../shared folder, and a single torch thread."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"

# Read by torch (and numpy's BLAS) when first imported: one thread even before the fixture below runs.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (papers, Airbus data): CI always has it, so there its absence fails; elsewhere it skips."""
    if not SHARED_DIR.is_dir():
        message = f"shared material not found at {SHARED_DIR} (expected next to the repository)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return SHARED_DIR


@pytest.fixture(autouse=True)
def torch_single_thread():
    """The machines share 2 cores: keep torch on one thread (without importing it for tests that do not)."""
    _single_thread_if_loaded()
    yield
    _single_thread_if_loaded()  # the test may have been the first to import torch


def _single_thread_if_loaded() -> None:
    """Set torch's intra-op threads to 1 only when torch is already imported (importing it costs ~1 s)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


_SESSION_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    """Remember the run's verdict for pytest_unconfigure."""
    _SESSION_STATUS.append(int(exitstatus))


def pytest_unconfigure(config):
    """Leave with pytest's verdict once the report is printed: when the engine suites (torch, OpenVINO, Dask)
    and the QGIS session share one process, tearing their native objects down at interpreter exit can
    segfault after every test passed (exit 139 with all green); the verdict is the tests', not the teardown's."""
    if _SESSION_STATUS and "qgis.core" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_SESSION_STATUS[-1])
