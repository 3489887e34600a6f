"""The cascade's first-look net in ONNX Runtime (ONNX only, never a pickle): decimated patches -> scores."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from engine.config import CascadeConfig
from engine.contract import BUNDLED_CASCADE_NAME, CASCADE_INPUT, CASCADE_KEY, CASCADE_OUTPUT
from engine.errors import ModelError, first_line
from engine.runtime.model_session import check_model_file, default_threads


def bundled_cascade_path() -> Path:
    """resources/cascade/ beside engine/ (the repository root, or the plugin folder in the zip)."""
    return Path(__file__).resolve().parents[2] / "resources" / "cascade" / BUNDLED_CASCADE_NAME


def cascade_config_from_metadata(metadata: dict[str, str], path: str) -> CascadeConfig:
    """The file's CascadeConfig, or a ModelError naming what is missing."""
    text = metadata.get(CASCADE_KEY)
    if text is None:
        raise ModelError(f"{path}: not an r2cnn cascade file (no {CASCADE_KEY} metadata)")
    try:
        raw = json.loads(text)
        names = {f.name for f in dataclasses.fields(CascadeConfig)}
        return CascadeConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names})
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{path}: unusable {CASCADE_KEY} metadata ({first_line(exc)})") from exc


class CascadeScorer:
    """One ONNX Runtime session of the cascade net; call it with (N, C, h, w) uint8 decimated patches."""

    def __init__(self, path: str | None = None, threads: int | None = None):
        import onnxruntime as ort

        self.path = str(path or bundled_cascade_path())
        if not Path(self.path).is_file():
            raise ModelError(f"the cascade model is missing ({self.path}); run with --no-cascade")
        check_model_file(self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(self.path, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"not a valid ONNX model: {self.path} ({first_line(exc)})") from exc
        names = [i.name for i in self._session.get_inputs()], [o.name for o in self._session.get_outputs()]
        if names != ([CASCADE_INPUT], [CASCADE_OUTPUT]):
            raise ModelError(f"{self.path}: a cascade has input {CASCADE_INPUT!r} and output {CASCADE_OUTPUT!r}")
        metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self.config = cascade_config_from_metadata(metadata, self.path)

    def __call__(self, decimated_u8: np.ndarray) -> np.ndarray:
        """(N, C, h, w) uint8 -> (N,) float scores."""
        images = np.ascontiguousarray(decimated_u8, dtype=np.float32)
        try:
            scores = self._session.run([CASCADE_OUTPUT], {CASCADE_INPUT: images})[0]
        except Exception as exc:  # onnxruntime's own errors (a file for another input layout)
            raise ModelError(f"{self.path}: the cascade failed on {images.shape} inputs ({first_line(exc)})") from exc
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (len(images),):
            raise ModelError(f"{self.path}: {scores.shape} scores for {len(images)} patches")
        return scores
