"""Export the inference graph to ONNX (standard ops only) with the model's configuration embedded."""

from __future__ import annotations

import warnings

import onnx
import torch

from engine.atomic_output import atomic_output
from engine.config import ModelConfig
from engine.contract import CONFIG_KEY, IMAGES_INPUT, INPUT_NAMES, OUTPUT_NAMES, PRODUCER_NAME
from engine.model_metadata import metadata_entries, write_metadata
from engine.network.r2cnn import R2CNN

__all__ = [
    "CONFIG_KEY", "INPUT_NAMES", "OUTPUT_NAMES", "export_onnx", "restamp_onnx", "trace_to_onnx",
]

ONNX_OPSET = 17
_GATE_SCORES, _PASSED_INDEX, _BOXES, _BOX_SCORES = OUTPUT_NAMES
PASSED_AXES = {_PASSED_INDEX: {0: "passed"}, _BOXES: {0: "passed"}, _BOX_SCORES: {0: "passed"}}
DYNAMIC_AXES = {IMAGES_INPUT: {0: "batch"}, _GATE_SCORES: {0: "batch"}, **PASSED_AXES}


def trace_to_onnx(
    module: torch.nn.Module,
    example: tuple,
    path: str,
    input_names: tuple[str, ...],
    dynamic_axes: dict,
    entries: dict[str, str],
) -> None:
    """Trace with the TorchScript exporter, embed the metadata, check, and write atomically."""
    with atomic_output(path, suffix=".onnx") as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                example,
                tmp,
                input_names=list(input_names),
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=dynamic_axes,
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        proto = onnx.load(tmp)
        write_metadata(proto, entries)
        proto.producer_name = PRODUCER_NAME
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)


def export_onnx(model: R2CNN, path: str, config: ModelConfig, metadata: dict | None = None) -> None:
    """Trace the eval-mode graph at the model's patch size (dynamic batch) and write it atomically."""
    model = model.eval().cpu()
    size = config.patch_size
    example = (torch.zeros(2, config.in_channels, size, size), torch.tensor(0.5))
    trace_to_onnx(model, example, path, INPUT_NAMES, DYNAMIC_AXES, metadata_entries(config, metadata))


def restamp_onnx(source: str, path: str, config: ModelConfig, metadata: dict | None = None) -> None:
    """The graph of an exported file under new metadata (calibrated thresholds, validation figures): the very
    graph that was measured, without tracing it again; written atomically."""
    proto = onnx.load(source)
    write_metadata(proto, metadata_entries(config, metadata))
    with atomic_output(path, suffix=".onnx") as tmp:
        onnx.save(proto, tmp)
