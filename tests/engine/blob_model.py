"""Test fixture: a tiny ONNX model that obeys the model contract (engine.contract) by boxing bright blobs;
tests the runtime, pipeline, CLI, bench and plugin end to end without trained weights (never shipped)."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.config import ModelConfig
from engine.contract import CONFIG_KEY, GATE_THRESHOLD_INPUT, IMAGES_INPUT, OUTPUT_NAMES

GATE_SCORES, PASSED_INDEX, BOXES, BOX_SCORES = OUTPUT_NAMES

BRIGHT_LEVEL = 200.0  # grey level above which a pixel belongs to a "blob"
BOX_SCORE = 0.9


def write_blob_model(
    path: str, patch_size: int = 64, cell_px: int = 16, config: ModelConfig | None = None
) -> ModelConfig:
    """Write the model; each cell_px x cell_px cell of a patch yields the box of its bright pixels.

    gate_scores = sigmoid((max grey - 180) / 10): near 1 when a patch holds a blob, near 0 otherwise.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if patch_size % cell_px:
        raise ValueError("patch_size must be a multiple of cell_px")
    config = dataclasses.replace(config or ModelConfig(), patch_size=patch_size)
    size, cells = patch_size, patch_size // cell_px
    cols = np.broadcast_to(np.arange(size, dtype=np.float32)[None, :], (size, size))
    rows = np.ascontiguousarray(cols.T)
    consts = {
        "cols": cols.reshape(1, 1, size, size),
        "rows": rows.reshape(1, 1, size, size),
        "one": np.float32(1.0),
        "minus_one": np.float32(-1.0),
        "big": np.float32(1e6),
        "bright": np.float32(BRIGHT_LEVEL),
        "gate_mid": np.float32(180.0),
        "gate_scale": np.float32(0.1),
        "box_score": np.float32(BOX_SCORE),
        "cell_shape": np.array([0, cells, cell_px, cells, cell_px], dtype=np.int64),
        "boxes_shape": np.array([0, cells * cells, 4], dtype=np.int64),
        "scores_shape": np.array([0, cells * cells], dtype=np.int64),
        "flat": np.array([-1], dtype=np.int64),
        "axes_c": np.array([1], dtype=np.int64),
        "axes_chw": np.array([1, 2, 3], dtype=np.int64),
        "axes_cell": np.array([2, 4], dtype=np.int64),
        "axes_last": np.array([-1], dtype=np.int64),
    }
    initializers = [numpy_helper.from_array(np.asarray(v), name=k) for k, v in consts.items()]
    n = helper.make_node
    nodes = [
        n("ReduceMean", [IMAGES_INPUT, "axes_c"], ["grey"], keepdims=1),
        n("ReduceMax", ["grey", "axes_chw"], ["grey_max"], keepdims=0),
        n("Sub", ["grey_max", "gate_mid"], ["gate_centred"]),
        n("Mul", ["gate_centred", "gate_scale"], ["gate_logit"]),
        n("Sigmoid", ["gate_logit"], [GATE_SCORES]),
        n("GreaterOrEqual", [GATE_SCORES, GATE_THRESHOLD_INPUT], ["passed_mask"]),
        n("NonZero", ["passed_mask"], ["passed_nz"]),
        n("Reshape", ["passed_nz", "flat"], [PASSED_INDEX]),
        n("Greater", ["grey", "bright"], ["is_bright"]),
        n("Cast", ["is_bright"], ["bright_f"], to=TensorProto.FLOAT),
    ]
    # Per cell: min/max of the bright pixels' edge coordinates (x0 = col, x1 = col + 1).
    for name, coord, fill, op, plus_one in (
        ("x0", "cols", "big", "ReduceMin", False),
        ("y0", "rows", "big", "ReduceMin", False),
        ("x1", "cols", "minus_one", "ReduceMax", True),
        ("y1", "rows", "minus_one", "ReduceMax", True),
    ):
        source = coord
        if plus_one:
            nodes.append(n("Add", [coord, "one"], [f"{name}_edge"]))
            source = f"{name}_edge"
        nodes += [
            n("Where", ["is_bright", source, fill], [f"{name}_px"]),
            n("Reshape", [f"{name}_px", "cell_shape"], [f"{name}_cells"]),
            n(op, [f"{name}_cells", "axes_cell"], [f"{name}_raw"], keepdims=0),
        ]
    nodes += [
        n("Reshape", ["bright_f", "cell_shape"], ["bright_cells"]),
        n("ReduceMax", ["bright_cells", "axes_cell"], ["has_blob"], keepdims=0),
    ]
    for name in ("x0", "y0", "x1", "y1"):
        nodes += [
            n("Mul", [f"{name}_raw", "has_blob"], [f"{name}_masked"]),
            n("Unsqueeze", [f"{name}_masked", "axes_last"], [f"{name}_col"]),
        ]
    nodes += [
        n("Concat", ["x0_col", "y0_col", "x1_col", "y1_col"], ["boxes_grid"], axis=-1),
        n("Reshape", ["boxes_grid", "boxes_shape"], ["boxes_all"]),
        n("Mul", ["has_blob", "box_score"], ["scores_grid"]),
        n("Reshape", ["scores_grid", "scores_shape"], ["scores_all"]),
        n("Gather", ["boxes_all", PASSED_INDEX], [BOXES], axis=0),
        n("Gather", ["scores_all", PASSED_INDEX], [BOX_SCORES], axis=0),
    ]
    graph = helper.make_graph(
        nodes,
        "r2cnn_blob_model",
        inputs=[
            helper.make_tensor_value_info(IMAGES_INPUT, TensorProto.FLOAT, ["batch", 3, size, size]),
            helper.make_tensor_value_info(GATE_THRESHOLD_INPUT, TensorProto.FLOAT, []),
        ],
        outputs=[
            helper.make_tensor_value_info(GATE_SCORES, TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info(PASSED_INDEX, TensorProto.INT64, ["passed"]),
            helper.make_tensor_value_info(BOXES, TensorProto.FLOAT, ["passed", cells * cells, 4]),
            helper.make_tensor_value_info(BOX_SCORES, TensorProto.FLOAT, ["passed", cells * cells]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="r2cnn-blob")
    model.ir_version = 8
    model.metadata_props.add(key=CONFIG_KEY, value=config.to_json())
    model.metadata_props.add(key="r2cnn_note", value="bright-blob test model, not a trained detector")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return config
