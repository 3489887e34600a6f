"""The model contract in one place: tensor names, metadata keys, gate sentinels, alignment, run choices.

Export writes it, the runtimes check it, the pipeline, CLI and plugin offer its choices (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

# Per-patch graph (engine.export.onnx_export): images (N, 3, P, P) 0..255 and a scalar gate threshold.
IMAGES_INPUT = "images"
GATE_THRESHOLD_INPUT = "gate_threshold"
INPUT_NAMES = (IMAGES_INPUT, GATE_THRESHOLD_INPUT)
# Window graph (engine.export.window_export): windows (B, 3, H, W) and the patch origins inside them.
WINDOWS_INPUT = "windows"
ROW_OFFSETS_INPUT = "row_offsets_px"
COL_OFFSETS_INPUT = "col_offsets_px"
WINDOW_INPUT_NAMES = (WINDOWS_INPUT, ROW_OFFSETS_INPUT, COL_OFFSETS_INPUT, GATE_THRESHOLD_INPUT)
IMAGE_INPUT_NAMES = (IMAGES_INPUT, WINDOWS_INPUT)  # the 0..255 inputs (uint8 in INT8 models)
# Both graphs answer with these, for the N patches of the batch (numbered window, row, col row-major).
OUTPUT_NAMES = ("gate_scores", "passed_index", "boxes_patch_px", "box_scores")

# ONNX metadata keys.
CONFIG_KEY = "r2cnn_config"  # ModelConfig as JSON: without it a file is not an r2cnn model
GRAPH_KEY = "r2cnn_graph"  # absent: the per-patch graph
WINDOW_GRAPH = "window"  # GRAPH_KEY's value for the window graph
PATCH_GRAPH = "patch"  # what `r2cnn export --graph` calls the per-patch graph (no GRAPH_KEY entry)
GRAPHS = (PATCH_GRAPH, WINDOW_GRAPH)
QUANTIZATION_KEY = "r2cnn_quantization"  # INT8 models: how they were calibrated (JSON)
PRODUCER_NAME = "r2cnn"

# Gate sentinels: a threshold below every score sends every patch to the detector (--no-gate); one above
# every score runs the gate alone (no detector work: calibration, gate tuning).
GATE_OFF = -1.0
GATE_ONLY = 2.0

# Patch origins inside a window, and the patch size of a window graph: multiples of the trunk's coarsest stride.
FEATURE_STRIDE_PX = 16

# What a run may ask for (CLI choices, plugin enums, the loader's checks).
DEVICES = ("auto", "cpu", "cuda")
BACKENDS = ("onnx", "torch")
PRECISIONS = ("auto", "int8", "fp32")  # bundled model only: auto = int8 on CPU, fp32 where CUDA runs it
# Which library runs an ONNX file: auto = OpenVINO on the CPU when it is importable, ONNX Runtime otherwise and
# for CUDA. ONNX Runtime is the reference the parity test holds OpenVINO to.
ONNXRUNTIME = "onnxruntime"
OPENVINO = "openvino"
RUNTIMES = ("auto", ONNXRUNTIME, OPENVINO)

# Bundled model files (resources/models/).
BUNDLED_MODEL_NAME = "r2cnn_aircraft.onnx"  # fp32, per patch: the reference graph
BUNDLED_FAST_MODEL_NAME = "r2cnn_aircraft.window.int8.onnx"  # same weights, INT8, trunk once per window
BUNDLED_WINDOW_MODEL_NAME = "r2cnn_aircraft.window.onnx"  # same weights, fp32 windows: CPUs where INT8 saturates

# The cascade's first look (resources/cascade/): one input, one output, its CascadeConfig as JSON metadata.
CASCADE_INPUT = "decimated"  # (N, C, h, w) float32 0..255, the decimated patches (pipeline.cascade)
CASCADE_OUTPUT = "cascade_scores"  # (N,) probability that the patch holds an aircraft
CASCADE_KEY = "r2cnn_cascade"
BUNDLED_CASCADE_NAME = "aircraft_cascade.onnx"
