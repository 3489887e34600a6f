"""The hostile-user probe (issue 25), one case per way in: each gives one line on stderr, the promised exit code,
no traceback, and leaves every file it was given as it was (nothing lost, nothing half-written). Grows with
every case found."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.engine.labelled_scenes import BLOBS_PX, blob_box_px, write_blob_raster, write_polygons

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Probe:
    """What a case may use: a scratch folder, a checkpoint, an ONNX model and a raster maker."""

    tmp: Path
    checkpoint: str
    model: str
    make_raster: Callable

    def file(self, name: str, data: bytes = b"precious\n") -> str:
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def copy(self, source: str, name: str) -> str:
        return shutil.copy(source, self.tmp / name)

    def labelled(self, boxes=BLOBS_PX[:3], **polygons) -> str:
        """RASTER=VECTOR of the blob raster and its reference polygons."""
        raster = write_blob_raster(self.tmp / "scene.tif")
        refs = write_polygons(self.tmp / "refs.gpkg", [blob_box_px(*b) for b in boxes], **polygons)
        return f"{raster}={refs}"

    def detections(self) -> str:
        return write_polygons(self.tmp / "det.gpkg", [blob_box_px(*b) for b in BLOBS_PX], layer="det")


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> str:
    """A random-weight 64 px R2CNN saved as r2cnn train saves it (no ONNX export: the probe never runs it)."""
    pytest.importorskip("torch")
    from engine.config import ModelConfig
    from engine.network.checkpoint import save_checkpoint
    from engine.network.r2cnn import build_r2cnn

    path = tmp_path_factory.mktemp("probe") / "ck.pt"
    save_checkpoint(path, build_r2cnn(ModelConfig(patch_size=64, rpn_pre_nms_top_n=100, rpn_post_nms_top_n=20)))
    return str(path)


@pytest.fixture
def probe(tmp_path, small_checkpoint, blob_model_path, make_raster) -> Probe:
    checkpoint = shutil.copy(small_checkpoint, tmp_path / "ck.pt")
    model = shutil.copy(blob_model_path, tmp_path / "blob.onnx")
    return Probe(tmp_path, str(checkpoint), str(model), make_raster)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".r2cnn-archive.lock"  # the run's own lock
    }


def expect_refusal(argv: list[str], capsys, folder: Path, says: str, code: int = 2) -> str:
    """Run r2cnn in-process: exit `code`, one stderr line containing `says`, no traceback, no file changed,
    nothing new but what the case expected (nothing) in folder."""
    before = _digests(folder)
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse: usage line + error, exit 2
        status = exc.code
    assert status == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line or "terminated" in line or "interrupted" in line]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err  # argparse adds its usage above its error line
    assert says in lines[0], err
    assert _digests(folder) == before, "a file was changed, added or removed"
    return lines[0]


# --- 1. one output rule for every subcommand --------------------------------------------------------------

OUTPUT_CASES = {
    "evaluate --json over an existing file": (
        lambda p: ["evaluate", "--dataset", p.tmp / "none", "--json", p.file("old.json")], "exists"),
    "evaluate --json = the report's own evaluation.gpkg": (
        lambda p: ["evaluate", "--data", p.labelled(), "--detections", p.detections(),
                   "--report-dir", _report_dir(p), "--json", p.tmp / "rep" / "evaluation.gpkg", "--overwrite"],
        "both name"),
    "export over its checkpoint": (lambda p: ["export", p.checkpoint, "-o", p.checkpoint, "--overwrite"], "input"),
    "export --weights-out over its checkpoint": (
        lambda p: ["export", p.checkpoint, "-o", p.tmp / "m.onnx", "--weights-out", p.checkpoint, "--overwrite"],
        "input"),
    "export -o X --weights-out X": (
        lambda p: ["export", p.checkpoint, "-o", p.tmp / "x", "--weights-out", p.tmp / "x"], "both name"),
    "export --metadata binary": (
        lambda p: ["export", p.checkpoint, "-o", p.tmp / "m.onnx", "--metadata", p.file("m.json", bytes(range(256)))],
        "not a readable JSON file"),
    "export --metadata a list": (
        lambda p: ["export", p.checkpoint, "-o", p.tmp / "m.onnx", "--metadata", p.file("m.json", b"[1, 2]")],
        "JSON object"),
    "tune-gate over its checkpoint": (
        lambda p: ["tune-gate", p.checkpoint, "-o", p.checkpoint, "--overwrite"], "input"),
    "anchors --write-config over a GeoTIFF": (
        lambda p: ["anchors", "--dataset", p.tmp, "--write-config", p.make_raster("keep.tif")], "exists"),
    "quantize over its model (hard link)": (
        lambda p: ["quantize", p.model, "-o", _hard_link(p.model, p.tmp / "link.onnx"), "--overwrite"], "input"),
}


def _report_dir(p: Probe) -> str:
    folder = p.tmp / "rep"
    folder.mkdir(exist_ok=True)
    (folder / "evaluation.gpkg").write_bytes(b"old report")
    return str(folder)


def _hard_link(source: str, name: Path) -> str:
    os.link(source, name)
    return str(name)


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=list(OUTPUT_CASES))
def test_outputs_follow_the_one_rule(case, probe, capsys):
    build, says = OUTPUT_CASES[case]
    argv = build(probe)
    expect_refusal(argv, capsys, probe.tmp, says)


# --- 2. options in range, for every subcommand, before any data is read or anything written -------------

def _train(p: Probe, *options) -> list:
    return ["train", "--data", p.labelled(), "--init", p.checkpoint, "--out", p.tmp / "run", *options]


TRAIN_CASES = {
    "--crop 0": (("--crop", "0"), "must be >= 1"),
    "--crop 100": (("--crop", "100"), "multiple of 64"),
    "--crop 1e6": (("--crop", "1048576"), "multiple of 64 up to"),
    "--lr -1": (("--lr", "-1"), "finite number > 0"),
    "--lr nan": (("--lr", "nan"), "finite number > 0"),
    "--lr 50": (("--lr", "50"), "diverge"),
    "--positives 0": (("--positives", "0"), "must be >= 1"),
    "--threads 0": (("--threads", "0"), "must be >= 1"),
    "--steps -3": (("--steps", "-3"), "must be >= 1"),
    "--time-budget-min 0": (("--time-budget-min", "0"), "finite number > 0"),
    "--time-budget-min -5": (("--time-budget-min", "-5"), "finite number > 0"),
    "--time-budget-min nan": (("--time-budget-min", "nan"), "finite number > 0"),
    "--time-budget-min inf": (("--time-budget-min", "inf"), "finite number > 0"),
    "--val-fraction 1": (("--val-fraction", "1"), "--val-fraction"),
    "--scale-jitter 1,inf": (("--scale-jitter", "1,inf"), "--scale-jitter"),
    "--synthetic -1": (("--synthetic", "-1"), "must be >= 0"),
}


@pytest.mark.parametrize("case", TRAIN_CASES, ids=list(TRAIN_CASES))
def test_train_options_are_checked_before_anything_is_read_or_written(case, probe, capsys):
    options, says = TRAIN_CASES[case]
    expect_refusal(_train(probe, *options), capsys, probe.tmp, says)
    assert not (probe.tmp / "run" / "split.json").exists() and not (probe.tmp / "run" / "train_config.json").exists()


def test_train_init_from_an_onnx_file_names_the_checkpoint(probe, capsys):
    argv = ["train", "--data", probe.labelled(), "--init", probe.model, "--out", probe.tmp / "run"]
    expect_refusal(argv, capsys, probe.tmp, ".pt checkpoint")


# --- 3. COCO files whose fields have the wrong types ------------------------------------------------------

def _coco(p: Probe, mutate) -> str:
    write_blob_raster(p.tmp / "img.tif")
    data = {"images": [{"id": 1, "file_name": "img.tif", "width": 192, "height": 128}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 20, 6, 6], "iscrowd": 0}],
            "categories": [{"id": 1, "name": "plane"}]}
    mutate(data)
    path = p.tmp / "coco.json"
    path.write_text(json.dumps(data))
    return str(path)


COCO_CASES = {
    "image id a string": (lambda d: d["images"][0].update(id="one"), "not an integer"),
    "image id a float": (lambda d: d["images"][0].update(id=1.5), "not an integer"),
    "file_name a number": (lambda d: d["images"][0].update(file_name=7), "not a file name"),
    "width a string": (lambda d: d["images"][0].update(width="192"), "positive integer"),
    "images an object": (lambda d: d.update(images={"id": 1}), "list of objects"),
    "annotation id null": (lambda d: d["annotations"][0].update(id=None), "integer id"),
    "bbox of strings": (lambda d: d["annotations"][0].update(bbox=["20", "20", "6", "6"]), "four finite numbers"),
    "bbox with NaN": (lambda d: d["annotations"][0].update(bbox=[20, 20, float("nan"), 6]), "four finite numbers"),
    "bbox of three": (lambda d: d["annotations"][0].update(bbox=[20, 20, 6]), "four finite numbers"),
    "category_id a string": (lambda d: d["annotations"][0].update(category_id="plane"), "not an integer"),
    "image_id unknown": (lambda d: d["annotations"][0].update(image_id=9), "does not list"),
    "duplicate image ids": (lambda d: d["images"].append(dict(d["images"][0])), "listed twice"),
    "annotations a list of lists": (lambda d: d.update(annotations=[[1, 2]]), "list of objects"),
}


@pytest.mark.parametrize("command", ["evaluate", "train"])
@pytest.mark.parametrize("case", COCO_CASES, ids=list(COCO_CASES))
def test_coco_fields_of_the_wrong_type_are_one_line(case, command, probe, capsys):
    mutate, says = COCO_CASES[case]
    coco = _coco(probe, mutate)
    if command == "evaluate":
        argv = ["evaluate", "--coco", coco, "--detections", probe.detections()]
    else:
        argv = ["train", "--coco", coco, "--init", probe.checkpoint, "--out", probe.tmp / "run"]
    expect_refusal(argv, capsys, probe.tmp, says)


# --- 4. a model file's metadata is a schema; its outputs stay inside the contract -------------------------

def _hostile_model(p: Probe, config=None, constants: dict | None = None, name: str = "hostile.onnx") -> str:
    """The blob model with its r2cnn_config replaced (a dict is updated, a str replaces it) or constants changed."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from engine.contract import CONFIG_KEY

    model = onnx.load(p.model)
    entry = next(e for e in model.metadata_props if e.key == CONFIG_KEY)
    if isinstance(config, dict):
        entry.value = json.dumps({**json.loads(entry.value), **config})
    elif config is not None:
        entry.value = config
    for init in model.graph.initializer:
        if constants and init.name in constants:
            init.CopyFrom(numpy_helper.from_array(np.asarray(constants[init.name], dtype=np.float32), init.name))
    path = p.tmp / name
    onnx.save(model, path)
    return str(path)


METADATA_CASES = {
    "config a JSON list": ("[1, 2, 3]", "JSON object"),
    "config not JSON": ("{gsd_m: 2", "metadata"),
    "config nested past recursion": ("[" * 100_000 + "]" * 100_000, "metadata"),
    "score_threshold a string": ({"score_threshold": "0.5"}, "score_threshold"),
    "score_threshold NaN": ({"score_threshold": float("nan")}, "score_threshold"),
    "gate_threshold 7": ({"gate_threshold": 7}, "gate_threshold"),
    "patch_size 0": ({"patch_size": 0}, "patch_size"),
    "patch_size a float": ({"patch_size": 64.5}, "patch_size"),
    "gsd_m negative": ({"gsd_m": -2}, "gsd_m"),
    "gsd_m a list": ({"gsd_m": [2]}, "gsd_m"),
    "overlap 1": ({"overlap": 1.0}, "overlap"),
    "std zero": ({"std": [0, 0, 0]}, "std"),
    "mean of two for three channels": ({"mean": [1, 2]}, "mean"),
    "anchor sizes empty": ({"anchor_sizes_px": []}, "anchor_sizes_px"),
    "class_names a string": ({"class_names": "aircraft"}, "class_names"),
    "gate_pooling unknown": ({"gate_pooling": "median"}, "gate_pooling"),
    "proposal limit negative": ({"rpn_post_nms_top_n": -1}, "rpn_post_nms_top_n"),
    "nms IoU 0": ({"det_nms_iou": 0}, "det_nms_iou"),
}


def _model_command(command: str, p: Probe, model: str) -> list:
    raster = p.make_raster("scene.tif")
    if command == "detect":
        return ["detect", raster, "-o", p.tmp / "out.gpkg", "--model", model, "-q"]
    if command == "evaluate":
        return ["evaluate", "--data", p.labelled(), "--model", model, "-q"]
    if command == "detect-archive":
        return ["detect-archive", raster, "-o", p.tmp / "archive", "--model", model, "-q"]
    return ["quantize", model, "-o", p.tmp / "q.onnx"]


@pytest.mark.parametrize("command", ["detect", "evaluate", "detect-archive", "quantize"])
@pytest.mark.parametrize("case", METADATA_CASES, ids=list(METADATA_CASES))
def test_a_malformed_model_configuration_is_one_line(case, command, probe, capsys):
    config, says = METADATA_CASES[case]
    model = _hostile_model(probe, config)
    line = expect_refusal(_model_command(command, probe, model), capsys, probe.tmp, says)
    assert "hostile.onnx" in line


OUTPUT_CONTRACT_CASES = {
    "box scores above 1": (None, {"box_score": 1.5}, "[0, 1]"),
    "box scores NaN": (None, {"box_score": float("nan")}, "[0, 1]"),
    "more boxes than the model's proposal limit": ({"rpn_post_nms_top_n": 4, "rpn_pre_nms_top_n": 4}, None,
                                                   "proposal limit of 4"),
}


@pytest.mark.parametrize("case", OUTPUT_CONTRACT_CASES, ids=list(OUTPUT_CONTRACT_CASES))
def test_model_outputs_outside_the_contract_are_refused(case, probe, capsys):
    config, constants, says = OUTPUT_CONTRACT_CASES[case]
    model = _hostile_model(probe, config, constants)
    argv = ["detect", probe.make_raster("scene.tif"), "-o", probe.tmp / "out.gpkg", "--model", model, "--no-gate"]
    line = expect_refusal(argv, capsys, probe.tmp, says)
    assert "hostile.onnx" in line


# --- 5. georeferencing that cannot be right ---------------------------------------------------------------

def _georeferenced(p: Probe, transform, crs="EPSG:32650") -> str:
    from affine import Affine

    return p.make_raster("geo.tif", crs=crs, transform=Affine(*transform))


GEOREF_CASES = {
    "zero pixel size": ((0.0, 0.0, 500000.0, 0.0, 0.0, 4000000.0), None, "zero pixel size"),
    "singular": ((2.0, 2.0, 500000.0, 2.0, 2.0, 4000000.0), None, "singular"),
    "NaN term": ((2.0, 0.0, float("nan"), 0.0, -2.0, 4000000.0), None, "non-finite"),
    "infinite term": ((float("inf"), 0.0, 500000.0, 0.0, -2.0, 4000000.0), None, "non-finite"),
    "millimetre pixels": ((0.001, 0.0, 500000.0, 0.0, -0.001, 4000000.0), None, "finer than the model"),
    "degrees read as metres (no CRS)": ((1e-5, 0.0, 30.0, 0.0, -1e-5, 50.0), "none", "finer than the model"),
}


@pytest.mark.parametrize("case", GEOREF_CASES, ids=list(GEOREF_CASES))
def test_georeferencing_that_cannot_be_right_is_one_line(case, probe, capsys):
    transform, crs, says = GEOREF_CASES[case]
    raster = _georeferenced(probe, transform, None if crs == "none" else (crs or "EPSG:32650"))
    argv = ["detect", raster, "-o", probe.tmp / "out.gpkg", "--model", probe.model, "-q"]
    expect_refusal(argv, capsys, probe.tmp, says)


def test_a_local_crs_in_feet_is_read_in_feet(probe, capsys):
    """Not metres: a 6.5616 ft pixel is the model's 2 m, and the run says nothing about assuming metres."""
    import json as json_module

    raster = _georeferenced(probe, (6.5616, 0.0, 0.0, 0.0, -6.5616, 0.0), 'LOCAL_CS["x",UNIT["foot",0.3048]]')
    stats = probe.tmp / "stats.json"
    argv = ["detect", raster, "-o", probe.tmp / "out.gpkg", "--model", probe.model, "--stats-json", stats, "-q"]
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    gsd = json_module.loads(stats.read_text())["rasters"][0]["gsd_raster_m"]
    assert gsd == pytest.approx([2.0, 2.0], rel=1e-3)


def test_a_local_crs_unit_is_its_own_not_metres():
    from rasterio.crs import CRS

    from engine.pipeline.raster_reader import _metres_per_unit

    assert _metres_per_unit(CRS.from_wkt('LOCAL_CS["x",UNIT["foot",0.3048]]')) == pytest.approx(0.3048)
    assert _metres_per_unit(CRS.from_epsg(2263)) == pytest.approx(0.3048006)


# --- 6. nothing hangs: inputs that are no files, cluster addresses that are no scheduler ------------------

def _fifo(p: Probe, name: str = "pipe.tif") -> str:
    path = p.tmp / name
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize("command", ["detect", "detect-archive"])
def test_a_fifo_named_like_a_raster_is_refused_not_read(command, probe, capsys):
    out = probe.tmp / ("out.gpkg" if command == "detect" else "archive")
    expect_refusal([command, _fifo(probe), "-o", out, "--model", probe.model, "-q"], capsys, probe.tmp, "is a FIFO")


@pytest.mark.slow
def test_a_fifo_inside_an_archive_folder_fails_its_scene_and_the_others_run(probe, capsys):
    folder = probe.tmp / "in"
    folder.mkdir()
    shutil.move(probe.make_raster("scene.tif"), folder / "scene.tif")
    os.mkfifo(folder / "pipe.tif")
    argv = ["detect-archive", folder, "-o", probe.tmp / "archive", "--model", probe.model, "--workers", "1",
            "--dashboard-address", ":0", "-q"]
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err
    assert "pipe.tif is a FIFO" in err and "Traceback" not in err
    assert len(list((probe.tmp / "archive" / "scenes").glob("*.gpkg"))) == 1


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never says a word (an HTTP server waiting for its request)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


ARCHIVE_OPTION_CASES = {
    "--scheduler garbage": (lambda port: ["--scheduler", "garbage"], "not a Dask address"),
    "--scheduler http://": (lambda port: ["--scheduler", "http://example.org:80"], "not a Dask address"),
    "--scheduler port 99999": (lambda port: ["--scheduler", "tcp://127.0.0.1:99999"], "not a Dask address"),
    "--scheduler a port that never answers": (lambda port: ["--scheduler", f"tcp://127.0.0.1:{port}"], "no Dask"),
    "--dashboard-address garbage": (lambda port: ["--dashboard-address", "garbage"], "[HOST]:PORT"),
    "--dashboard-address port 70000": (lambda port: ["--dashboard-address", ":70000"], "[HOST]:PORT"),
    "--workers 64": (lambda port: ["--workers", "64"], "at once"),
    "--scene-timeout 0": (lambda port: ["--scene-timeout", "0"], "finite number > 0"),
    "--scene-timeout nan": (lambda port: ["--scene-timeout", "nan"], "finite number > 0"),
}


@pytest.mark.parametrize("case", ARCHIVE_OPTION_CASES, ids=list(ARCHIVE_OPTION_CASES))
def test_archive_cluster_options_are_checked_and_bounded_in_time(case, probe, capsys, silent_port, monkeypatch):
    import time

    from engine.archive import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    options, says = ARCHIVE_OPTION_CASES[case]
    argv = ["detect-archive", probe.make_raster("scene.tif"), "-o", probe.tmp / "archive", "--model", probe.model,
            *options(silent_port)]
    started = time.monotonic()
    expect_refusal(argv, capsys, probe.tmp, says)
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_sigterm_during_an_archive_exits_143_in_one_line(probe):
    """What a batch scheduler sends at the end of a job: the driver's own handler, no traceback, exit 143."""
    import signal
    import subprocess
    import sys
    import time

    folder = probe.tmp / "in"
    folder.mkdir()
    write_blob_raster(folder / "a.tif")
    for index in range(40):
        shutil.copy(folder / "a.tif", folder / f"s{index}.tif")
    command = [sys.executable, "-m", "engine.cli.main", "detect-archive", folder, "-o", probe.tmp / "archive",
               "--model", probe.model, "--workers", "1", "--dashboard-address", ":0"]
    proc = subprocess.Popen([str(a) for a in command], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline, lines = time.monotonic() + 120, []
        while time.monotonic() < deadline:
            lines.append(proc.stderr.readline())
            if "to run" in lines[-1] or not lines[-1]:
                break
        os.killpg(proc.pid, signal.SIGTERM)  # the whole job: driver and workers
        stderr = "".join(lines) + proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, stderr
    assert "terminated by SIGTERM" in stderr and "Traceback" not in stderr and "ERROR 1" not in stderr, stderr
    scenes = probe.tmp / "archive" / "scenes"
    assert [n for n in os.listdir(scenes) if not n.endswith(".gpkg")] == []  # no temporaries left


# --- 7. outputs are closed and read back before they are published; a full disk is named ----------------

def test_a_geopackage_is_closed_and_read_back_before_it_is_published(probe, monkeypatch):
    """The writer closes the file itself (GeoPackage writes its R-tree and extent at close): one reopened
    read-only before the rename already holds them, whatever else still refers to the dataset."""
    from osgeo import ogr

    from engine.outputs import vector_writer as gpkg_writer

    seen = []
    real_check = gpkg_writer.check_closed_file

    def spy(path, fmt, count, shown):
        dataset = ogr.Open(path, 0)
        seen.append((dataset.GetLayerByName("aircraft").GetFeatureCount(),
                     dataset.ExecuteSQL("SELECT min_x FROM gpkg_contents").GetNextFeature().GetField(0)))
        dataset = None
        real_check(path, fmt, count, shown)

    monkeypatch.setattr(gpkg_writer, "check_closed_file", spy)
    argv = ["detect", probe.make_raster("scene.tif"), "-o", probe.tmp / "out.gpkg", "--model", probe.model, "-q"]
    assert main([str(a) for a in argv]) == 0
    assert seen and seen[0][0] > 0 and seen[0][1] is not None


def test_an_incomplete_file_is_never_published(probe, capsys, monkeypatch):
    from engine.outputs import vector_writer as gpkg_writer

    monkeypatch.setattr(gpkg_writer, "_write", lambda results, path, *a: open(path, "wb").close())
    argv = ["detect", probe.make_raster("scene.tif"), "-o", probe.tmp / "out.gpkg", "--model", probe.model, "-q"]
    expect_refusal(argv, capsys, probe.tmp, "cannot write")


def test_a_full_disk_under_the_archive_catalogue_is_named(tmp_path, monkeypatch):
    """GDAL blames a full disk on 'no such table' or on nothing: the catalogue's error says the disk is full
    (r2cnn detect-archive prints an OutputError as its one line, exit 2)."""
    from engine import file_checks
    from engine.archive import catalogue
    from engine.errors import OutputError

    def no_room(path, records):
        raise RuntimeError("sqlite3_exec(CREATE TABLE gpkg_extensions) failed: no such table: gpkg_contents")

    monkeypatch.setattr(file_checks, "DISK_FULL_BYTES", 2**62)  # every disk is full
    monkeypatch.setattr(catalogue, "_write_scenes", no_room)
    with pytest.raises(OutputError, match="no such table.*; the disk is full"):
        catalogue.write_catalogue(str(tmp_path / "catalogue.gpkg"), [])
    assert os.listdir(tmp_path) == []


# --- 8. references evaluation cannot use are left out and counted in one note, or refused -----------------

def _wkt_layer(path: Path, wkts: list[str], epsg: int | None = 32631) -> str:
    from osgeo import ogr, osr

    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = dataset.CreateLayer("refs", srs=srs, geom_type=ogr.wkbUnknown)
    for wkt in wkts:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    layer = dataset = None
    return str(path)


def _box_wkt(box_px, multi_with=None) -> str:
    from tests.engine.labelled_scenes import px_to_map

    def ring(b):
        x0, y0, x1, y1 = px_to_map(b)
        return f"(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"

    if multi_with is None:
        return f"POLYGON {ring(box_px)}"
    return f"MULTIPOLYGON ({ring(box_px)}, {ring(multi_with)})"


def test_references_that_are_no_aircraft_boxes_are_left_out_in_one_note(probe, capsys):
    boxes = [blob_box_px(*b) for b in BLOBS_PX]
    refs = _wkt_layer(probe.tmp / "refs.gpkg", [
        _box_wkt(boxes[0]),
        _box_wkt(boxes[1], multi_with=boxes[2]),  # two aircraft digitised as one feature: two references
        "LINESTRING (500040 3999960, 500100 3999900)",  # a line with an envelope: no aircraft
        "POINT (500100 3999900)",
    ])
    raster = write_blob_raster(probe.tmp / "scene.tif")
    report = probe.tmp / "report.json"
    argv = ["evaluate", "--data", f"{raster}={refs}", "--detections", probe.detections(), "--json", report]
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr().out
    payload = json.loads(report.read_text())
    notes = [n for n in payload["notes"] if "refs.gpkg" in n and "left out" in n]
    assert len(notes) == 1 and "left out 2 points or lines" in notes[0] and "1 more part" in notes[0], payload["notes"]
    assert "warning: " + notes[0] in out
    assert '"references": 3,' in json.dumps(payload), payload  # the box and the multi-part feature's two


def test_a_reference_layer_without_crs_that_misses_the_raster_is_refused(probe, capsys):
    lonlat = ["POLYGON ((3 36, 3.001 36, 3.001 36.001, 3 36.001, 3 36))"]  # degrees, the layer without CRS
    refs = _wkt_layer(probe.tmp / "refs.gpkg", lonlat, epsg=None)
    raster = write_blob_raster(probe.tmp / "scene.tif")
    argv = ["evaluate", "--data", f"{raster}={refs}", "--detections", probe.detections()]
    expect_refusal(argv, capsys, probe.tmp, "has no CRS")


def test_a_class_value_that_matches_nothing_is_an_error_as_a_missing_coco_category(probe, capsys):
    argv = ["evaluate", "--data", probe.labelled(), "--class-field", "cls", "--class-value", "glider",
            "--detections", probe.detections()]
    expect_refusal(argv, capsys, probe.tmp, "no feature has cls = glider")


def test_a_warning_said_of_many_files_is_said_once_with_the_count():
    from engine.datasets.labelled import collapse_repeats

    notes = [f"refs_{i}.gpkg: reprojected from EPSG:4326 to EPSG:32631" for i in range(30)] + ["other: once"]
    assert collapse_repeats(notes) == [
        "reprojected from EPSG:4326 to EPSG:32631: 30 files (refs_0.gpkg, refs_1.gpkg, refs_2.gpkg, ...)",
        "other: once",
    ]


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_labelled_image_without_ground_resolution_is_an_error_unless_given(command, probe, capsys):
    write_blob_raster(probe.tmp / "img.png", crs=None)
    coco = _coco(probe, lambda d: d["images"][0].update(file_name="img.png"))
    if command == "evaluate":
        argv = ["evaluate", "--coco", coco, "--detections", probe.detections()]
    else:
        argv = ["train", "--coco", coco, "--init", probe.checkpoint, "--out", probe.tmp / "run"]
    expect_refusal(argv, capsys, probe.tmp, "give --image-gsd")


def test_a_finished_training_run_is_not_extended_without_being_asked(probe, capsys):
    run = probe.tmp / "run"
    run.mkdir()
    (run / "model.onnx").write_bytes(b"the finished run's model")
    argv = ["train", "--data", probe.labelled(), "--init", probe.checkpoint, "--out", run]
    expect_refusal(argv, capsys, probe.tmp, "--resume extends it")
