"""What resuming compares: a scene's input stamp (size, mtime), the model file's hash and the settings' hash,
and the SceneRecord each scene gets in the catalogue (done / failed / skipped, detections, time, error)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass

from engine.atomic_output import is_gdal_virtual
from engine.config import DetectConfig, ModelConfig
from engine.contract import ONNXRUNTIME, OPENVINO
from engine.errors import ModelError, RasterInputError, first_line
from engine.file_checks import not_a_regular_file
from engine.runtime.run_settings import RunSettings

DONE, FAILED, SKIPPED = "done", "failed", "skipped"  # skipped: not run (interrupted); the next run does it
STATUSES = (DONE, FAILED, SKIPPED)
SCENES_DIR = "scenes"  # per-scene GeoPackages, inside the output folder
HASH_CHARS = 16  # 64 bits of sha256: enough to tell two models or two settings apart
# DetectConfig fields that are not detection settings: the model is hashed by its content, extra is tuning.
_NOT_SETTINGS = ("model_path", "extra")
_RESOLVED = ("score_threshold", "gate_threshold", "use_gate", "tile_size", "overlap")  # RunSettings' fields
OUTPUT_TUNING = ("openvino_precision",)  # DetectConfig.extra keys that change the numbers, not only the speed


@dataclass(frozen=True)
class InputStamp:
    """Size and modification time of an input: a re-written scene is run again."""

    size: int
    mtime_ns: int


def input_stamp(path: str) -> InputStamp:
    """os.stat for local files; GDAL's VSIStatL for URLs (/vsis3/..., /vsicurl/...), to the second."""
    if not is_gdal_virtual(path):
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise RasterInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        special = not_a_regular_file(path)
        if special is not None:
            raise RasterInputError(special)
        return InputStamp(stat.st_size, stat.st_mtime_ns)
    from osgeo import gdal

    stat = gdal.VSIStatL(path, gdal.VSI_STAT_EXISTS_FLAG | gdal.VSI_STAT_SIZE_FLAG)
    if stat is None:
        raise RasterInputError(f"cannot reach {path} (GDAL finds nothing there)")
    return InputStamp(int(stat.size), int(stat.mtime) * 1_000_000_000)


def file_hash(path: str) -> str:
    """sha256 of a file's bytes (the model): a re-trained model under the same name re-runs every scene."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelError(f"cannot read the model {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()[:HASH_CHARS]


def settings_hash(config: DetectConfig, model: ModelConfig | None = None) -> str:
    """Hash of everything but the model file that changes a scene's output: the engine's version, the library
    that runs the model and its version, every detection setting (thresholds, gate, stretch, tiling, window
    graph, pre-screen, bands, gsd, merge...) and the runtime tuning that changes numbers (OpenVINO precision).

    With the model's ModelConfig, thresholds and tiling enter as the run resolves them (RunSettings: the
    model's values for what is unset), so asking for the model's own value is no change.
    """
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in _NOT_SETTINGS}
    if model is not None:
        for name in _RESOLVED:
            settings.pop(name)
        settings["run_settings"] = dataclasses.asdict(RunSettings.resolve(config, model))
    settings["extra"] = {k: config.extra[k] for k in OUTPUT_TUNING if config.extra.get(k) is not None}
    settings["engine_version"] = engine_version()
    settings["runtime"] = runtime_fingerprint(config)
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def model_settings(config: DetectConfig) -> ModelConfig | None:
    """The ModelConfig in an ONNX model file's metadata (None for a torch checkpoint: its raw options count)."""
    if config.backend == "torch" or not config.model_path:
        return None
    from engine.model_metadata import model_config, read_file_metadata

    try:
        metadata = read_file_metadata(config.model_path)
    except Exception as exc:  # OSError, or protobuf's DecodeError for a file that is no ONNX model
        raise ModelError(f"cannot read the model {config.model_path}: {first_line(exc)}") from exc
    return model_config(metadata, config.model_path)


def engine_version() -> str:
    """The engine's version: scenes done by another version are run again."""
    import engine

    return str(engine.__version__)


def runtime_fingerprint(config: DetectConfig) -> str:
    """The library that will run the model here (auto resolved as load_detector resolves it) and its version:
    OpenVINO and ONNX Runtime round INT8 differently, so installing one must re-run the scenes."""
    if config.backend == "torch":
        return f"torch {_version('torch')}"
    from engine.runtime.onnx_session import cuda_available
    from engine.runtime.runtime_choice import choose_runtime

    chosen = choose_runtime(config.runtime, config.device)
    device = config.device
    if device == "auto":
        device = "cuda" if chosen == ONNXRUNTIME and cuda_available() else "cpu"
    names = (OPENVINO,) if chosen == OPENVINO else (ONNXRUNTIME, "onnxruntime-gpu", "onnxruntime-openvino")
    return f"{chosen} {next((v for v in map(_version, names) if v), '')} {device}"


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def scene_output_name(path: str) -> str:
    """scenes/<stem>-<hash of the full path>.gpkg: scenes with one name in two folders never collide."""
    stem = os.path.splitext(os.path.basename(path.rstrip("/")))[0] or "scene"
    token = hashlib.sha1(path.encode()).hexdigest()[:8]
    return f"{SCENES_DIR}/{stem}-{token}.gpkg"


@dataclass(frozen=True)
class SceneRecord:
    """One scene's row in the catalogue (footprint_wkt in EPSG:4326, None when unknown or not georeferenced)."""

    path: str
    status: str
    detections: int = 0
    seconds: float = 0.0
    error: str = ""
    model_hash: str = ""
    settings_hash: str = ""
    input_size: int = -1
    input_mtime_ns: int = -1
    output: str = ""  # the per-scene GeoPackage, relative to the output folder
    worker: str = ""
    finished: str = ""  # UTC, ISO 8601
    footprint_wkt: str | None = None

    def matches(self, stamp: InputStamp, model_hash: str, settings_hash: str) -> bool:
        """Done with this very input, model and settings: resuming skips it."""
        return (
            self.status == DONE
            and (self.input_size, self.input_mtime_ns) == (stamp.size, stamp.mtime_ns)
            and (self.model_hash, self.settings_hash) == (model_hash, settings_hash)
        )
