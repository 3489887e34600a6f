"""Issue 15: no input destroys data, exhausts the machine or ends in a traceback. One test (or more) per
numbered defect; subprocess runs where the exit status or a signal is the point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.errors
from osgeo import ogr
from rasterio.transform import from_origin

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[3]
R2CNN = [sys.executable, "-m", "engine.cli.main", "detect"]


def _run(capsys, *argv) -> tuple[int, str]:
    code = main(["detect", *argv])
    return code, capsys.readouterr().err


def _one_error_line(err: str, *parts: str) -> bool:
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    return len(lines) == 1 and lines[0].startswith("r2cnn detect: error:") and all(p in lines[0] for p in parts)


def _count(path) -> int:
    dataset = ogr.Open(str(path))
    return dataset.GetLayer(0).GetFeatureCount()


def _spawn(*argv, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*R2CNN, *map(str, argv)], cwd=REPO, **kwargs)


def _no_compute(monkeypatch):
    """Fail the test if the model is ever loaded: the refusal must come before any work."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("engine.runtime.load_detector", refuse)


def _write_raster(path, data=None, crs="EPSG:32650", transform=None, driver="GTiff", size=(100, 150)) -> str:
    if data is None:
        data = np.random.default_rng(0).integers(80, 120, (1, *size)).astype(np.uint8)
        data[0, 20:26, 20:27] = 250
        data[0, 70:76, 100:108] = 250
    meta = dict(driver=driver, width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=data.dtype)
    if crs is not None or transform is not None:
        meta.update(crs=crs, transform=transform or from_origin(500000.0, 4000000.0, 2.0, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(str(path), "w", **meta) as dst:
            dst.write(data)
    return str(path)


# 1. --stats-json never replaces an input, the output, or an existing file without --overwrite.
def test_stats_json_is_checked_like_the_output(tmp_path, capsys, blob_model_path, monkeypatch):
    raster = _write_raster(tmp_path / "s.tif")
    before = Path(raster).read_bytes()
    out, stats = tmp_path / "out.gpkg", tmp_path / "stats.json"
    stats.write_text("keep")
    _no_compute(monkeypatch)
    for argv, part in (
        (["--stats-json", raster, "--overwrite"], "is an input"),
        (["--stats-json", str(out)], "both name"),
        (["--stats-json", str(stats)], "--overwrite"),
    ):
        code, err = _run(capsys, raster, "-o", str(out), "--model", blob_model_path, *argv)
        assert code == 2 and _one_error_line(err, part), err
    assert Path(raster).read_bytes() == before and stats.read_text() == "keep" and not out.exists()


def test_stats_json_replaced_with_overwrite(tmp_path, capsys, blob_model_path):
    stats = tmp_path / "stats.json"
    stats.write_text("old")
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(tmp_path / "o.gpkg"), "--model",
                     blob_model_path, "--stats-json", str(stats), "--overwrite", "-q")
    assert code == 0 and '"patches_total"' in stats.read_text(), err


# 2. No output is ever one of the inputs, even with --overwrite (resolved paths, links, virtual paths).
def test_output_equal_to_an_input_is_refused_even_with_overwrite(tmp_path, capsys, blob_model_path, monkeypatch):
    raster = _write_raster(tmp_path / "scene.gpkg", driver="GPKG")  # a GeoPackage can hold a raster
    os.link(raster, tmp_path / "twin.gpkg")
    before = Path(raster).read_bytes()
    other = _write_raster(tmp_path / "other.tif")
    _no_compute(monkeypatch)
    for output in (raster, str(tmp_path / "." / "scene.gpkg"), str(tmp_path / "twin.gpkg")):
        code, err = _run(capsys, other, raster, "-o", output, "--overwrite", "--model", blob_model_path)
        assert code == 2 and _one_error_line(err, "is an input"), err
    assert Path(raster).read_bytes() == before


# 3. Two runs on one output: the second to publish fails and leaves the first one's file alone.
def test_an_output_published_meanwhile_by_another_run_is_not_replaced(tmp_path, capsys, blob_model_path, monkeypatch):
    from engine.outputs import vector_writer

    out = tmp_path / "out.gpkg"
    real_write = vector_writer._write

    def write_then_lose_the_race(results, path, *rest):
        real_write(results, path, *rest)
        out.write_bytes(b"the other run's result")  # the other run published while this one wrote

    monkeypatch.setattr(vector_writer, "_write", write_then_lose_the_race)
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(out), "--model", blob_model_path, "-q")
    assert code == 2 and _one_error_line(err, "appeared while"), err
    assert out.read_bytes() == b"the other run's result"
    assert sorted(os.listdir(tmp_path)) == ["out.gpkg", "s.tif"]


def test_an_existing_output_is_refused_before_any_compute(tmp_path, capsys, blob_model_path, monkeypatch):
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"keep")
    _no_compute(monkeypatch)
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(out), "--model", blob_model_path)
    assert code == 2 and _one_error_line(err, "--overwrite") and out.read_bytes() == b"keep"


# 4. Planned from the header: far too coarse, absurd overlap or past the memory bound is one line, no compute.
@pytest.mark.parametrize(
    ("argv", "parts"),
    [
        (["--gsd", "30"], ("30 m", "2 m", "--force")),
        (["--gsd", "1e6"], ("1e+03 km", "2 m")),
        (["--gsd", "1e300", "--force"], ("bound",)),
        (["--overlap", "0.99"], ("overlap 0.99",)),
    ],
)
def test_hopeless_plans_are_refused_in_one_line(tmp_path, capsys, blob_model_path, argv, parts):
    out = tmp_path / "out.gpkg"
    started = time.perf_counter()
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(out), "--model", blob_model_path, *argv)
    assert code == 2 and _one_error_line(err, *parts), err
    assert not out.exists() and time.perf_counter() - started < 10


def test_a_global_one_degree_raster_is_refused_and_force_runs_a_coarse_small_one(tmp_path, capsys, blob_model_path):
    world = _write_raster(tmp_path / "w.tif", crs="EPSG:4326", transform=from_origin(-180, 90, 1, 1), size=(180, 360))
    code, err = _run(capsys, world, "-o", str(tmp_path / "w.gpkg"), "--model", blob_model_path, "--force")
    assert code == 2 and _one_error_line(err, "bound"), err
    coarse = _write_raster(tmp_path / "c.tif", transform=from_origin(5e5, 4e6, 20, 20), size=(40, 40))
    code, err = _run(capsys, coarse, "-o", str(tmp_path / "c.gpkg"), "--model", blob_model_path, "--force", "-q")
    assert code == 0 and (tmp_path / "c.gpkg").exists(), err


# 5. OS errors: checked before the compute, and always one line with a reason.
@pytest.mark.parametrize("where", ["-o", "--stats-json"])
def test_an_unwritable_system_folder_is_one_line_before_any_compute(tmp_path, capsys, blob_model_path, monkeypatch,
                                                                    where):
    _no_compute(monkeypatch)
    argv = ["-o", "/proc/x.gpkg"] if where == "-o" else ["-o", str(tmp_path / "o.gpkg"), "--stats-json", "/proc/s.json"]
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), *argv, "--model", blob_model_path)
    assert code == 2 and _one_error_line(err, "cannot write to /proc (")


def test_a_full_disk_while_writing_is_one_line_with_a_reason_and_leaves_nothing(tmp_path, blob_model_path):
    raster = _write_raster(tmp_path / "s.tif")
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def small_files_only():  # what a full disk does to the GeoPackage: writes fail part way
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    run = subprocess.run([*R2CNN, raster, "-o", out_dir / "o.gpkg", "--model", blob_model_path, "-q"], cwd=REPO,
                         capture_output=True, text=True, preexec_fn=small_files_only, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert _one_error_line(run.stderr, "cannot write", "o.gpkg: ") and not line.endswith(":"), run.stderr
    assert os.listdir(out_dir) == []


# 6. SIGTERM is Ctrl-C: exit 143, one line, nothing left; temporaries of SIGKILLed runs are cleaned later.
def test_sigterm_during_the_compute_exits_143_and_leaves_nothing(tmp_path, blob_model_path):
    raster = _write_raster(tmp_path / "big.tif", size=(2000, 2000))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    child = _spawn(raster, "-o", out_dir / "o.gpkg", "--model", blob_model_path, stderr=subprocess.PIPE, text=True)
    first = child.stderr.readline()  # "model ... on cpu": the compute starts now
    child.send_signal(signal.SIGTERM)
    rest = child.stderr.read()
    assert child.wait(timeout=60) == 143 and first.startswith("model"), first + rest
    assert rest.strip().splitlines()[-1] == "r2cnn detect: terminated by SIGTERM" and "Traceback" not in rest
    assert os.listdir(out_dir) == []


def test_temporaries_left_by_a_killed_run_are_removed_by_the_next_one(tmp_path, capsys, blob_model_path):
    raster = _write_raster(tmp_path / "s.tif")
    out = tmp_path / "out" / "o.gpkg"
    out.parent.mkdir()
    hang_while_writing = (
        "import sys, time; from engine.outputs import vector_writer; real = vector_writer._write\n"
        "def slow(*a):\n"
        "    real(*a); open(a[1] + '-journal', 'w').close(); print('written', flush=True); time.sleep(60)\n"
        "vector_writer._write = slow\nfrom engine.cli.main import main\nsys.exit(main())\n"
    )
    child = subprocess.Popen([sys.executable, "-c", hang_while_writing, "detect", raster, "-o", str(out), "--model",
                              blob_model_path, "-q"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "written"
    child.kill()
    child.wait()
    left = os.listdir(out.parent)
    assert len(left) == 2 and all(n.startswith(".o.gpkg.r2cnn.") for n in left)
    code, err = _run(capsys, raster, "-o", str(out), "--model", blob_model_path)
    assert code == 0 and "removed 2 temporary file(s) that killed runs left" in err, err
    assert os.listdir(out.parent) == ["o.gpkg"] and _count(out) == 2


# 7. A closed or full stderr never stops the run.
@pytest.mark.parametrize("stderr", ["closed pipe", "/dev/full"])
def test_a_broken_stderr_does_not_kill_the_work(tmp_path, blob_model_path, stderr):
    out = tmp_path / "o.gpkg"
    argv = (_write_raster(tmp_path / "s.tif"), "-o", out, "--model", blob_model_path)
    if stderr == "closed pipe":  # `r2cnn detect ... 2>&1 | head -0`
        child = _spawn(*argv, stderr=subprocess.PIPE)
        child.stderr.close()
    else:
        with open("/dev/full", "w") as full:
            child = _spawn(*argv, stderr=full)
    assert child.wait(timeout=120) == 0 and _count(out) == 2


# 8. A model with the contract's names but broken outputs, or a garbage torch file: a model error in words.
def _liar_model(path, passed_index, boxes_shape) -> str:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from engine.config import ModelConfig
    from engine.contract import CONFIG_KEY, GATE_THRESHOLD_INPUT, IMAGES_INPUT, OUTPUT_NAMES

    gate, passed, boxes, scores = OUTPUT_NAMES
    consts = {
        "axes": np.array([1, 2, 3], np.int64), "scale": np.float32(1 / 255),
        passed: np.array(passed_index, np.int64), boxes: np.full(boxes_shape, 4.0, np.float32),
        scores: np.full(boxes_shape[:2], 0.9, np.float32),
    }
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", [IMAGES_INPUT, "axes"], ["peak"], keepdims=0),
         helper.make_node("Mul", ["peak", "scale"], [gate])],
        "liar", [helper.make_tensor_value_info(IMAGES_INPUT, TensorProto.FLOAT, ["n", 3, 64, 64]),
                 helper.make_tensor_value_info(GATE_THRESHOLD_INPUT, TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info(gate, TensorProto.FLOAT, ["n"]),
         helper.make_tensor_value_info(passed, TensorProto.INT64, None),
         helper.make_tensor_value_info(boxes, TensorProto.FLOAT, None),
         helper.make_tensor_value_info(scores, TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(consts[k]), name=k) for k in ("axes", "scale")],
    )
    graph.node.extend(helper.make_node("Constant", [], [k], value=numpy_helper.from_array(v))
                      for k, v in consts.items() if k in (passed, boxes, scores))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    model.metadata_props.add(key=CONFIG_KEY, value=ModelConfig(patch_size=64, overlap=0.25).to_json())
    onnx.save(model, str(path))
    return str(path)


@pytest.mark.parametrize(("passed_index", "boxes_shape"), [([7], (1, 2, 4)), ([0], (1, 2, 3)), ([0, 0], (1, 2, 4))])
def test_invalid_model_outputs_are_a_model_error_naming_the_file(tmp_path, capsys, passed_index, boxes_shape):
    model = _liar_model(tmp_path / "liar.onnx", passed_index, boxes_shape)
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(tmp_path / "o.gpkg"), "--model", model)
    assert code == 2 and _one_error_line(err, model, "invalid model outputs") and "Traceback" not in err, err
    assert not (tmp_path / "o.gpkg").exists()


def test_a_garbage_torch_file_says_what_is_wrong(tmp_path, capsys):
    garbage = tmp_path / "m.pt"
    garbage.write_bytes(b"\x82garbage that is no checkpoint")
    code, err = _run(capsys, _write_raster(tmp_path / "s.tif"), "-o", str(tmp_path / "o.gpkg"), "--backend", "torch",
                     "--model", str(garbage), "--device", "cpu")
    assert code == 2 and _one_error_line(err, "not a torch checkpoint"), err


# 9. The same raster twice is detected once; GDAL virtual paths are accepted.
def test_a_raster_given_twice_is_detected_once_with_a_warning(tmp_path, capsys, blob_model_path):
    raster = _write_raster(tmp_path / "a.tif")
    out = tmp_path / "o.gpkg"
    code, err = _run(capsys, raster, str(tmp_path / "." / "a.tif"), "-o", str(out), "--model", blob_model_path, "-q")
    assert code == 0 and "warning:" in err and "same file" in err and _count(out) == 2


def test_a_raster_inside_a_zip_is_read_through_vsizip(tmp_path, capsys, blob_model_path):
    with zipfile.ZipFile(tmp_path / "scenes.zip", "w") as archive:
        archive.write(_write_raster(tmp_path / "a.tif"), "inside/a.tif")
    out = tmp_path / "o.gpkg"
    code, err = _run(capsys, f"/vsizip/{tmp_path}/scenes.zip/inside/a.tif", "-o", str(out), "--model", blob_model_path)
    assert code == 0 and _count(out) == 2, err
    code, err = _run(capsys, f"/vsizip/{tmp_path}/scenes.zip/nope.tif", "-o", str(tmp_path / "n.gpkg"), "--model",
                     blob_model_path)
    assert code == 2 and _one_error_line(err, "nope.tif"), err


# 10. The extension picks the format (or is refused with the list).
def test_detect_writes_the_format_its_extension_names(tmp_path, capsys, blob_model_path, monkeypatch):
    raster = _write_raster(tmp_path / "s.tif")
    code, err = _run(capsys, raster, "-o", str(tmp_path / "o.shp"), "--model", blob_model_path, "-q")
    assert code == 0 and ogr.Open(str(tmp_path / "o.shp")).GetDriver().GetName() == "ESRI Shapefile", err
    _no_compute(monkeypatch)
    code, err = _run(capsys, raster, "-o", str(tmp_path / "o.txt"), "--model", blob_model_path)
    assert code == 2 and _one_error_line(err, "unknown output format", ".geojson", ".fgb", ".csv")


# 11. No CRS: no made-up CRS in the output, and a geotransform's pixel size is used (and said).
def test_a_geotransform_without_crs_gives_its_pixel_size_and_no_crs(tmp_path, capsys, blob_model_path):
    import json

    raster = _write_raster(tmp_path / "m.tif", crs=None, transform=from_origin(1000.0, 2000.0, 0.5, 0.5),
                           size=(400, 600))
    out, stats = tmp_path / "o.gpkg", tmp_path / "s.json"
    code, err = _run(capsys, raster, "-o", str(out), "--model", blob_model_path, "--stats-json", str(stats))
    assert code == 0 and "has no CRS" in err and "0.5" in err and "assumed" in err, err
    report = json.loads(stats.read_text())["rasters"][0]
    assert report["gsd_raster_m"] == [0.5, 0.5] and report["patches_total"] == 6  # 150 x 100 model px
    dataset = ogr.Open(str(out))  # keep it: a GDAL 3.6 layer does not keep its dataset alive
    srs = dataset.GetLayer(0).GetSpatialRef()
    assert srs is None or not srs.IsGeographic()


# 12. Once the output is published the run has succeeded, whatever signal comes next.
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_just_after_publishing_does_not_fail_the_run(tmp_path, blob_model_path, signum):
    out = tmp_path / "o.gpkg"
    signal_after_publish = (  # the signal arrives right after the output got its name (rename or link)
        "import os, sys, time\n"
        "def after(real):\n"
        "    def call(src, dst, *a, **k):\n"
        "        real(src, dst, *a, **k)\n"
        f"        if str(dst).endswith('o.gpkg'): os.kill(os.getpid(), {int(signum)}); time.sleep(0.2)\n"
        "    return call\n"
        "os.link, os.replace = after(os.link), after(os.replace)\n"
        "from engine.cli.main import main\nsys.exit(main())\n"
    )
    run = subprocess.run([sys.executable, "-c", signal_after_publish, "detect", _write_raster(tmp_path / "s.tif"), "-o",
                          str(out), "--model", blob_model_path], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "wrote" in run.stderr and "interrupted" not in run.stderr, run.stderr
    assert _count(out) == 2
