"""The hostile-user probe (issue 25), one case per way in: each gives one line on stderr, the promised exit code,
no traceback, and leaves every file it was given as it was (nothing lost, nothing half-written). Grows with
every case found."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.engine.labelled_scenes import BLOBS_PX, blob_box_px, write_blob_raster, write_polygons


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


@pytest.fixture
def probe(tmp_path, tiny_models, blob_model_path, make_raster) -> Probe:
    checkpoint = shutil.copy(tiny_models.checkpoint, tmp_path / "ck.pt")
    model = shutil.copy(blob_model_path, tmp_path / "blob.onnx")
    return Probe(tmp_path, str(checkpoint), str(model), make_raster)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def expect_refusal(argv: list[str], capsys, folder: Path, says: str, code: int = 2) -> str:
    """Run r2cnn in-process: exit `code`, one stderr line containing `says`, no traceback, no file changed,
    nothing new but what the case expected (nothing) in folder."""
    before = _digests(folder)
    assert main([str(a) for a in argv]) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
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
