"""INT8 static quantization of an exported r2cnn ONNX model (ONNX Runtime's tools), calibrated on
training patches; the metadata travels with it and fp32 stays the reference."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import onnx

from engine.atomic_output import atomic_output
from engine.config import ModelConfig
from engine.contract import (
    COL_OFFSETS_INPUT,
    GATE_OFF,
    GATE_THRESHOLD_INPUT,
    IMAGES_INPUT,
    PRODUCER_NAME,
    QUANTIZATION_KEY,
    ROW_OFFSETS_INPUT,
    WINDOWS_INPUT,
)
from engine.errors import ModelError
from engine.export.uint8_input import input_quant_override, to_uint8_input
from engine.model_metadata import model_config, read_metadata, write_metadata
from engine.pipeline.scene import ImageScene, patch_fill_value, read_patch

__all__ = ["DETECTOR_OUTPUT_CONVS", "FORMATS", "QUANTIZATION_KEY", "QuantizeOptions", "calibration_patches",
           "quantize_model"]

FORMATS = ("qdq", "qoperator")
# The gate logits and the RPN's objectness / box deltas feed the gate decision and the box decoding
# directly and cost almost nothing (a handful of output channels): kept in fp32. The R-FCN score maps
# are quantized (the model card has what that does to the validation AP50).
DETECTOR_OUTPUT_CONVS = ("classifier/logits", "rpn/objectness", "rpn/deltas")


@dataclass(frozen=True)
class QuantizeOptions:
    """How to quantize: format, per-channel weights, which convolutions stay fp32, calibration size."""

    quant_format: str = "qdq"  # qdq | qoperator
    per_channel: bool = True
    calibrate_method: str = "minmax"  # minmax | percentile | entropy
    exclude_patterns: tuple[str, ...] = DETECTOR_OUTPUT_CONVS  # node-name substrings kept fp32
    # Relu too: the quantizer then folds each ReLU into its convolution (no float round trip between them)
    op_types: tuple[str, ...] = ("Conv", "Relu")
    uint8_input: bool = True  # take the 8-bit patches as they are (exact; see uint8_input.py)
    calibration_patches: int = 48
    synthetic_fraction: float = 0.25
    batch_size: int = 4
    seed: int = 0


def calibration_patches(
    count: int,
    patch_px: int,
    gsd_m: float,
    synthetic_fraction: float,
    seed: int,
    airbus_root: str | None,
    fill_value: float | None = None,
) -> np.ndarray:
    """(N, 3, P, P) uint8 training patches: the Airbus training split at the model's gsd plus generated
    GF-1-like ones (the validation split is never used, so the AP check stays honest); fill_value: the
    model's (pipeline.scene.patch_fill_value; None: the default model's), for crops past an image's edge."""
    fill_value = patch_fill_value(ModelConfig()) if fill_value is None else fill_value
    rng = np.random.default_rng(seed)
    n_synthetic = int(round(count * synthetic_fraction))
    patches = _airbus_patches(count - n_synthetic, patch_px, gsd_m, rng, airbus_root, fill_value)
    n_synthetic = count - len(patches)  # no dataset here: all generated
    from engine.synthetic.scene_generator import render_training_patch

    for _ in range(n_synthetic):
        image, _ = render_training_patch(rng, size_px=patch_px)
        patches.append(np.ascontiguousarray(image.transpose(2, 0, 1)))
    return np.stack(patches).astype(np.uint8)


def _airbus_patches(
    count: int, patch_px: int, gsd_m: float, rng, root: str | None, fill_value: float
) -> list[np.ndarray]:
    """Random P x P patches of Airbus training images, read as the patch stream reads them (pipeline.scene:
    padded with the fill value past the edge); none when the default dataset folder is absent (a folder
    passed explicitly must be a dataset)."""
    if count <= 0:
        return []
    from engine.datasets import airbus

    if root is None:
        root = str(airbus.DEFAULT_AIRBUS_ROOT)
        if not os.path.isdir(root):
            return []
    ids = airbus.training_ids(root)
    annotations = airbus.read_annotations(root)
    patches = []
    for image_id in rng.permutation(ids)[:count]:
        image = airbus.load_image(root, str(image_id), gsd_m=gsd_m, annotations=annotations).image
        height, width = image.shape[:2]
        y0 = int(rng.integers(0, max(1, height - patch_px + 1)))
        x0 = int(rng.integers(0, max(1, width - patch_px + 1)))
        patches.append(np.array(read_patch(ImageScene(image, fill_value), (x0, y0), patch_px).image_u8))
    return patches


def _calibration_reader(input_names: Sequence[str], patches: np.ndarray, batch_size: int):
    """ONNX Runtime's CalibrationDataReader over the patches, for the per-patch or the window graph.

    The gate is off (GATE_OFF) so the detector branch sees data and gets calibrated too.
    """
    from onnxruntime.quantization import CalibrationDataReader

    window_graph = WINDOWS_INPUT in input_names

    class _Reader(CalibrationDataReader):
        def __init__(self):
            self._batches = self._iterate()

        def _iterate(self) -> Iterator[dict]:
            gate = np.asarray(GATE_OFF, dtype=np.float32)
            for start in range(0, len(patches), batch_size):
                batch = patches[start : start + batch_size].astype(np.float32)
                if window_graph:  # each patch a 1 x 1 window: the same activations as in a larger one
                    zero = np.zeros(1, dtype=np.int64)
                    yield {WINDOWS_INPUT: batch, ROW_OFFSETS_INPUT: zero, COL_OFFSETS_INPUT: zero,
                           GATE_THRESHOLD_INPUT: gate}
                else:
                    yield {IMAGES_INPUT: batch, GATE_THRESHOLD_INPUT: gate}

        def get_next(self):
            return next(self._batches, None)

    return _Reader()


def quantize_model(
    src_path: str,
    dst_path: str,
    options: QuantizeOptions = QuantizeOptions(),
    patches_u8: np.ndarray | None = None,
    airbus_root: str | None = None,
) -> dict:
    """Write the INT8 model atomically (convolutions quantized, per-channel weights) with the source's
    metadata plus a QUANTIZATION_KEY record; returns that record."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if options.quant_format not in FORMATS:
        raise ModelError(f"unknown quantization format {options.quant_format!r} (expected qdq or qoperator)")
    source = _load_source(src_path)
    metadata = read_metadata(source)
    config = model_config(metadata, src_path)
    if QUANTIZATION_KEY in metadata:
        raise ModelError(f"{src_path} is already quantized")
    if patches_u8 is None:
        patches_u8 = calibration_patches(
            options.calibration_patches,
            config.patch_size,
            config.gsd_m,
            options.synthetic_fraction,
            options.seed,
            airbus_root,
            patch_fill_value(config),
        )
    input_names = [i.name for i in source.graph.input]
    candidates = [n for n in source.graph.node if n.op_type in options.op_types]
    excluded = [n.name for n in candidates if any(p in n.name for p in options.exclude_patterns)]
    conv_count = sum(1 for n in candidates if n.op_type == "Conv")
    method = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[options.calibrate_method]
    record = {
        **asdict(options),
        "exclude_patterns": list(options.exclude_patterns),
        "op_types": list(options.op_types),
        "excluded_nodes": excluded,
        "quantized_convs": conv_count - sum(1 for n in candidates if n.op_type == "Conv" and n.name in excluded),
        "calibration_patches_used": int(len(patches_u8)),
        "weights": "int8 per-channel" if options.per_channel else "int8 per-tensor",
        "activations": "uint8",
    }
    overrides = input_quant_override(source, config) if options.uint8_input else {}
    with atomic_output(dst_path, suffix=".onnx") as tmp, _quiet_root_logger():
        quantize_static(
            source,
            tmp,
            _calibration_reader(input_names, patches_u8, options.batch_size),
            quant_format=QuantFormat.QDQ if options.quant_format == "qdq" else QuantFormat.QOperator,
            op_types_to_quantize=list(options.op_types),
            per_channel=options.per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=method,
            extra_options={"TensorQuantOverrides": overrides} if overrides else None,
        )
        quantized = onnx.load(tmp)
        record["input_dtype"] = "uint8" if options.uint8_input and to_uint8_input(quantized) else "float32"
        write_metadata(quantized, {**metadata, QUANTIZATION_KEY: json.dumps(record)})
        quantized.producer_name = PRODUCER_NAME
        # The calibration's static shapes let ORT fold the RPN reshape to (0, -1), which fails on an
        # empty batch (no patch passed the gate): the runtime infers shapes itself.
        del quantized.graph.value_info[:]
        onnx.save(quantized, tmp)
    return record


@contextmanager
def _quiet_root_logger():
    """ONNX Runtime's quantizer warns on the root logger that the model was not pre-processed (shape
    inference and fusions it does not need here): keep the user's terminal for real problems."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _load_source(path: str) -> onnx.ModelProto:
    """The fp32 model, or one clear ModelError (missing file, not ONNX, not an r2cnn model)."""
    if not os.path.isfile(path):
        raise ModelError(f"model file not found: {path}")
    try:
        model = onnx.load(path)
    except Exception as exc:  # protobuf raises its own DecodeError types
        raise ModelError(f"not a valid ONNX model: {path} ({type(exc).__name__})") from exc
    model_config(read_metadata(model), path)  # ModelError: not an r2cnn model
    return model
