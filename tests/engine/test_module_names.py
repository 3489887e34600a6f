"""Module names say what a module does: no two engine modules share a file name (an import or a traceback
then names one place), and pipeline/ holds only the stages a scene goes through on its way to boxes; what
is written (outputs/) or measured (evaluation/) lives elsewhere. engine/ never importing qgis is checked by
test_layering.py and test_engine_imports.py."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parents[2] / "engine"

# The pipeline's stages, from a raster to merged boxes in map coordinates (docs/ARCHITECTURE.md). A new
# module here must be one of them: add it with the stage it is, or put it where it belongs.
PIPELINE_STAGES = {
    "scene": "a scene at the model's gsd, its fill value and padding",
    "raster_reader": "RasterScene: a raster streamed window by window",
    "raster_bands": "which bands a raster gives the network",
    "stretch": "raw values to the network's 8 bits",
    "scene_plan": "the plan of a scene from its header (refusals, memory bound)",
    "run_plan": "the run's thresholds and batch settings",
    "tiling": "the patch grid",
    "window_plan": "patches grouped in windows for the window graph",
    "prescreen": "nodata patches skipped from a decimated mask",
    "cascade": "the first look on a decimated view: which patches the trunk sees",
    "sparse_windows": "windows planned over the patches the cascade passes",
    "read_ahead": "reads in flight beside the network",
    "patch_stream": "the patch loop: gate, detector, boxes in raster px",
    "candidates": "boxes a patch keeps",
    "merge": "boxes of overlapping patches merged",
    "georef": "raster px to map coordinates",
    "run_stats": "stage times, counts, peak memory",
    "detect": "detect_scene / detect_raster, the stages in order",
}


def _modules() -> list[Path]:
    return [path for path in ENGINE_DIR.rglob("*.py") if path.name != "__init__.py"]


def test_no_two_engine_modules_share_a_file_name():
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        by_name[path.name].append(str(path.relative_to(ENGINE_DIR.parent)))
    shared = {name: sorted(paths) for name, paths in by_name.items() if len(paths) > 1}
    assert not shared, f"engine modules sharing a file name (rename one to say what it does): {shared}"


def test_pipeline_holds_only_pipeline_stages():
    present = {path.stem for path in (ENGINE_DIR / "pipeline").glob("*.py") if path.name != "__init__.py"}
    strangers = sorted(present - set(PIPELINE_STAGES))
    assert not strangers, (
        f"engine/pipeline/ modules that are not pipeline stages: {strangers}; move them (outputs/, evaluation/) "
        "or add the stage they are to PIPELINE_STAGES"
    )
    gone = sorted(set(PIPELINE_STAGES) - present)
    assert not gone, f"PIPELINE_STAGES lists modules that no longer exist: {gone}"
