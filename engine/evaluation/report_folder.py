"""The report folder of `r2cnn evaluate`: error layers (GeoPackage), the two PNGs, the HTML page and the
JSON, each staged beside its target and published together, so a failed run leaves none of them."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from engine.atomic_output import StagedOutput, check_output_path, publish_all
from engine.errors import OutputError
from engine.evaluation.labelled_scoring import LabelledEvaluation

NAMES = {
    "layers": "evaluation.gpkg",
    "pr_curve": "pr_curve.png",
    "histogram": "score_histogram.png",
    "html": "report.html",
    "json": "report.json",
}


@dataclass(frozen=True)
class ReportFiles:
    """Where each output went (None: not written, with the reason in notes)."""

    paths: dict[str, str]
    notes: tuple[str, ...] = ()


def report_paths(folder: str, with_layers: bool = True) -> dict[str, str]:
    """The files a report folder gets."""
    return {key: os.path.join(folder, name) for key, name in NAMES.items() if with_layers or key != "layers"}


def check_report_folder(folder: str, overwrite: bool, protect: Sequence[str] = (), with_layers: bool = True) -> None:
    """Before any work: the folder's parent exists, no output exists without overwrite, none is an input."""
    parent = os.path.dirname(os.path.abspath(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"{folder} is a file, not a folder")
    if not os.path.isdir(folder) and not os.path.isdir(parent):
        raise OutputError(f"output folder does not exist: {parent}")
    if os.path.isdir(folder):
        for path in report_paths(folder, with_layers).values():
            check_output_path(path, overwrite, protect)


def figures(evaluation: LabelledEvaluation) -> tuple[dict[str, bytes], list[str]]:
    """Both PNGs, or none and a note when matplotlib is missing (QGIS's Python may lack it)."""
    from engine.evaluation.figures import pr_curve_png, score_histogram_png

    try:
        return {"pr_curve": pr_curve_png(evaluation), "histogram": score_histogram_png(evaluation)}, []
    except ImportError as exc:  # matplotlib is imported when drawing
        return {}, [f"no PNG figures: matplotlib is not installed in this Python ({exc})"]


def write_html_report(evaluation: LabelledEvaluation, path: str, overwrite: bool = True) -> list[str]:
    """Only the HTML page (the Processing algorithm's output); returns notes."""
    from engine.evaluation.report_content import to_html

    pictures, notes = figures(evaluation)
    staged = _staged_bytes(path, to_html(evaluation, pictures).encode("utf-8"), overwrite, ())
    with staged:
        staged.publish()
    return notes


def write_report_folder(
    evaluation: LabelledEvaluation, folder: str, overwrite: bool = False, protect: Sequence[str] = ()
) -> ReportFiles:
    """Everything at once: the layers (when the sets have rasters), PNGs, HTML and JSON."""
    from engine.evaluation.error_layers import stage_error_layers
    from engine.evaluation.report_content import to_dict, to_html

    with_layers = all(s.frame is not None for s in evaluation.sets)
    check_report_folder(folder, overwrite, protect, with_layers)
    paths = report_paths(folder, with_layers)
    pictures, notes = figures(evaluation)
    payload = {"pr_curve": pictures.get("pr_curve"), "histogram": pictures.get("histogram"),
               "html": to_html(evaluation, pictures).encode("utf-8"),
               "json": json.dumps(to_dict(evaluation), indent=2).encode("utf-8")}
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    staged: list[StagedOutput] = []
    published = False
    try:
        if with_layers:
            staged.append(stage_error_layers(evaluation, paths["layers"], overwrite, protect))
        for key, data in payload.items():
            if data is not None:
                staged.append(_staged_bytes(paths[key], data, overwrite, protect))
        publish_all(staged)
        published = True
    finally:
        for item in staged:
            item.discard()
        if created and not published and not os.listdir(folder):
            os.rmdir(folder)  # a failed run leaves no empty folder behind either
    written = {key: path for key, path in paths.items() if key in ("layers",) or payload.get(key) is not None}
    return ReportFiles(written, tuple(notes))


def _staged_bytes(path: str, data: bytes, overwrite: bool, protect: Sequence[str]) -> StagedOutput:
    """data in a temporary beside path, ready to publish."""
    staged = StagedOutput(path, os.path.splitext(path)[1], overwrite, protect)
    try:
        with open(staged.tmp, "xb") as handle:
            handle.write(data)
    except OSError as exc:
        staged.discard()
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return staged
