"""The one metadata reader / writer: entries as strings, a round trip through a real ONNX file, and the two
refusals (no r2cnn configuration; an unreadable one) with the file named."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

from engine.config import ModelConfig
from engine.contract import CONFIG_KEY, QUANTIZATION_KEY
from engine.errors import ModelError
from engine.model_metadata import metadata_entries, model_config, read_file_metadata, read_metadata, write_metadata


def _identity_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    return helper.make_model(graph)


def test_entries_are_strings_with_the_configuration(tmp_path):
    config = ModelConfig(patch_size=64, score_threshold=0.42)
    entries = metadata_entries(config, {"licence": "CC BY-NC-SA 4.0", "ap50": 0.95, "bins": [1, 2]})
    assert entries == {CONFIG_KEY: config.to_json(), "licence": "CC BY-NC-SA 4.0", "ap50": "0.95", "bins": "[1, 2]"}
    model = _identity_model()
    model.metadata_props.add(key="stale", value="gone")
    write_metadata(model, {**entries, QUANTIZATION_KEY: json.dumps({"weights": "int8"})})
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    read = read_file_metadata(path)
    assert read == read_metadata(model) and "stale" not in read
    assert model_config(read, path) == config


def test_a_file_without_or_with_a_broken_configuration_is_refused_by_name():
    with pytest.raises(ModelError, match=r"m\.onnx is an ONNX model but not an r2cnn one \(no 'r2cnn_config'"):
        model_config({"other": "1"}, "m.onnx")
    with pytest.raises(ModelError, match=r"m\.onnx: unusable 'r2cnn_config' metadata"):
        model_config({CONFIG_KEY: "{not json"}, "m.onnx")
