"""Hostile model files for the tests that prove they are refused and never executed."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path


class RunsCode:
    """Unpickling this would create the marker file: a model or checkpoint must never be loaded that way."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def write_torch_like_pickle(path: Path, payload) -> Path:
    """payload pickled in the layout of a torch.save() file (a zip holding archive/data.pkl)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload))
    path.write_bytes(buffer.getvalue())
    return path
