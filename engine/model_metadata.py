"""The r2cnn metadata of an ONNX file, read and written in one place (keys in engine.contract): the
ModelConfig under CONFIG_KEY, which makes a file an r2cnn model, plus the graph kind, the quantization
record and extra entries (licence, validation figures). Export, quantization, the runtimes and the bench
all go through here."""

from __future__ import annotations

import json

from engine.config import ModelConfig
from engine.contract import CONFIG_KEY
from engine.errors import ModelError, first_line


def metadata_entries(config: ModelConfig, extra: dict | None = None) -> dict[str, str]:
    """The configuration under CONFIG_KEY plus any extra metadata, all as strings (JSON where needed)."""
    entries = {CONFIG_KEY: config.to_json()}
    entries.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (extra or {}).items()})
    return entries


def read_metadata(proto) -> dict[str, str]:
    """An onnx.ModelProto's metadata_props as a dict."""
    return {prop.key: prop.value for prop in proto.metadata_props}


def write_metadata(proto, entries: dict[str, str]) -> None:
    """Replace an onnx.ModelProto's metadata_props by entries (strings), in place."""
    del proto.metadata_props[:]
    for key, value in entries.items():
        proto.metadata_props.add(key=key, value=value)


def read_file_metadata(path: str) -> dict[str, str]:
    """The metadata of an ONNX file without loading its weights (ImportError without the onnx package)."""
    import onnx

    return read_metadata(onnx.load(path, load_external_data=False))


def model_config(metadata: dict[str, str], model_path: str) -> ModelConfig:
    """The model's ModelConfig from its metadata: without it we cannot know gsd, patch size or thresholds."""
    text = metadata.get(CONFIG_KEY)
    if not text:
        raise ModelError(f"{model_path} is an ONNX model but not an r2cnn one (no {CONFIG_KEY!r} metadata)")
    try:
        return ModelConfig.from_json(text)
    except (ValueError, TypeError, RecursionError) as exc:  # the schema (engine.config) names the field
        raise ModelError(f"{model_path}: unusable {CONFIG_KEY!r} metadata ({first_line(exc, 160)})") from exc
