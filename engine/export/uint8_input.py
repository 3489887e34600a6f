"""INT8 models take the 8-bit patches as they are: with the input quantized at scale 1/std and zero
point mean, QuantizeLinear((x - mean) / std) is x itself for every integer x in 0..255, so the float
input, the normalisation and that QuantizeLinear are dropped and a uint8 input feeds the first
DequantizeLinear directly (exact; less work and a quarter of the input memory)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from engine.config import ModelConfig
from engine.contract import IMAGE_INPUT_NAMES

INPUT_NAMES = IMAGE_INPUT_NAMES  # the 0..255 inputs of either graph


def input_quant_override(source: onnx.ModelProto, config: ModelConfig) -> dict:
    """TensorQuantOverrides pinning the normalised input's scale / zero point to 1/std and mean, or {}
    when the normalisation cannot map 0..255 onto uint8 exactly (channels differ, mean not an integer)."""
    normalised = _normalised_input(source)
    mean, std = set(config.mean), set(config.std)
    if normalised is None or len(mean) != 1 or len(std) != 1:
        return {}
    mean_value, std_value = float(mean.pop()), float(std.pop())
    if mean_value != round(mean_value) or not 0 <= mean_value <= 255 or std_value <= 0:
        return {}
    return {
        normalised: [
            {"scale": np.array(1.0 / std_value, np.float32), "zero_point": np.array(round(mean_value), np.uint8)}
        ]
    }


def to_uint8_input(model: onnx.ModelProto) -> bool:
    """Rewrite input -> Sub -> Div -> QuantizeLinear into a uint8 input, in place; False (unchanged)
    unless that chain is there with the exact scale and zero point input_quant_override asks for."""
    graph = model.graph
    inputs = {i.name: i for i in graph.input if i.name in INPUT_NAMES}
    if len(inputs) != 1:
        return False
    name, value = next(iter(inputs.items()))
    chain = _chain(graph, name, ("Sub", "Div", "QuantizeLinear"))
    if chain is None:
        return False
    sub, div, quantize = chain
    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    try:
        mean = constants[sub.input[1]]
        std = constants[div.input[1]]
        scale, zero_point = constants[quantize.input[1]], constants[quantize.input[2]]
    except (KeyError, IndexError):
        return False
    exact = (
        zero_point.dtype == np.uint8
        and np.allclose(mean, float(zero_point)) and np.allclose(std * scale, 1.0, rtol=1e-6)
    )
    if not exact:
        return False
    for node in graph.node:  # the DequantizeLinear nodes now read the uint8 input itself
        node.input[:] = [name if i == quantize.output[0] else i for i in node.input]
    for node in (sub, div, quantize):
        graph.node.remove(node)
    value.type.tensor_type.elem_type = TensorProto.UINT8
    return True


def _normalised_input(model: onnx.ModelProto) -> str | None:
    """Name of the tensor (input - mean) / std in the fp32 graph, if the graph starts that way."""
    names = [i.name for i in model.graph.input if i.name in INPUT_NAMES]
    chain = _chain(model.graph, names[0], ("Sub", "Div")) if len(names) == 1 else None
    return chain[-1].output[0] if chain else None


def _chain(graph, tensor: str, op_types: tuple[str, ...]):
    """The nodes op_types[0] -> op_types[1] -> ... each the only consumer of the previous output
    (Shape nodes aside: they read the size only, which a uint8 input keeps)."""
    nodes = []
    for op_type in op_types:
        consumers = [n for n in graph.node if tensor in n.input and n.op_type != "Shape"]
        if len(consumers) != 1 or consumers[0].op_type != op_type or consumers[0].input[0] != tensor:
            return None
        nodes.append(consumers[0])
        tensor = consumers[0].output[0]
    return nodes
