"""Bench fixtures: the bright-blob model (64 px patches) and the tiny random-weight models of tests/engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ is not installed (the package is engine only)
    sys.path.insert(0, str(REPO_ROOT))

from engine.config import ModelConfig  # noqa: E402
from tests.engine.blob_model import write_blob_model  # noqa: E402
from tests.engine.conftest import tiny_models  # noqa: E402, F401 - the same session fixture here


@pytest.fixture(scope="session")
def blob_model_path(tmp_path_factory) -> str:
    """64 px patches, 25 % overlap, 16 px cells, as the CLI tests use."""
    path = str(tmp_path_factory.mktemp("models") / "blob.onnx")
    write_blob_model(path, patch_size=64, cell_px=16, config=ModelConfig(overlap=0.25))
    return path
