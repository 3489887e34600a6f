"""INPUTS of detect-archive: rasters, folders, globs, manifests (CSV / text, URLs too), each scene once,
and one clear error for what is missing; records: the settings hash sees a setting, not the model path."""

from __future__ import annotations

import os

import pytest

from engine.archive.inputs import collect_inputs
from engine.archive.records import scene_output_name, settings_hash
from engine.config import DetectConfig, ModelConfig
from engine.errors import RasterInputError


@pytest.fixture
def tree(tmp_path):
    """a.tif, b.TIF, sub/c.jp2, notes.md, .hidden.tif, .git/x.tif under tmp_path/data."""
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / ".git").mkdir()
    for name in ("a.tif", "b.TIF", "sub/c.jp2", "notes.md", ".hidden.tif", ".git/x.tif"):
        (data / name).write_bytes(b"x")
    return data


def test_a_folder_gives_its_rasters_recursively_sorted_hidden_ones_left_out(tree):
    assert collect_inputs([str(tree)]) == [str(tree / "a.tif"), str(tree / "b.TIF"), str(tree / "sub" / "c.jp2")]


def test_globs_files_and_repeats_of_one_file_give_each_scene_once(tree, monkeypatch):
    monkeypatch.chdir(tree)
    scenes = collect_inputs(["*.tif", "a.tif", str(tree / "a.tif"), "sub/c.jp2"])
    assert scenes == [str(tree / "a.tif"), str(tree / "sub" / "c.jp2")]


def test_manifests_csv_with_a_path_column_or_plain_text_relative_to_the_manifest(tree):
    csv_manifest = tree / "list.csv"
    csv_manifest.write_text("date,path\n2026-01-01,a.tif\n2026-01-02,sub/c.jp2\n2026-01-03,/vsis3/bucket/s.tif\n")
    expected = [str(tree / "a.tif"), str(tree / "sub" / "c.jp2"), "/vsis3/bucket/s.tif"]
    assert collect_inputs([str(csv_manifest)]) == expected
    text = tree / "list.txt"
    text.write_text("# archive\nb.TIF\n\n/vsicurl/https://example.org/x.tif\n")
    assert collect_inputs([str(text)]) == [str(tree / "b.TIF"), "/vsicurl/https://example.org/x.tif"]
    headerless = tree / "plain.csv"
    headerless.write_text("a.tif,1\nb.TIF,2\n")
    assert collect_inputs([str(headerless)]) == [str(tree / "a.tif"), str(tree / "b.TIF")]


def test_what_is_missing_is_one_error_naming_it(tree):
    manifest = tree / "list.txt"
    manifest.write_text("a.tif\ngone1.tif\ngone2.tif\n")
    with pytest.raises(RasterInputError, match=r"input not found: .*gone1.tif, .*gone2.tif, nothing\*.tif$"):
        collect_inputs([str(manifest), "nothing*.tif"])
    (tree / "empty").mkdir()
    with pytest.raises(RasterInputError, match="no rasters found in .*empty"):
        collect_inputs([str(tree / "empty")])


def test_settings_hash_follows_settings_not_the_model_path_and_outputs_never_collide(monkeypatch):
    base = settings_hash(DetectConfig(model_path="/a/model.onnx"))
    assert settings_hash(DetectConfig(model_path="/b/model.onnx")) == base  # the model is hashed by content
    assert settings_hash(DetectConfig(score_threshold=0.4)) != base
    assert settings_hash(DetectConfig(bands=(3, 2, 1))) != base
    assert settings_hash(DetectConfig(extra={"threads": 1})) == base  # tuning, not a setting
    assert settings_hash(DetectConfig(extra={"openvino_precision": "bf16"})) != base  # tuning that changes numbers
    for changed in (dict(stretch="percentile"), dict(use_gate=False), dict(gate_threshold=0.2), dict(window_patches=1),
                    dict(prescreen=False), dict(runtime="onnxruntime"), dict(merge_ios=0.6), dict(overlap=0.3)):
        assert settings_hash(DetectConfig(**changed)) != settings_hash(DetectConfig()), changed
    model = ModelConfig(score_threshold=0.4, overlap=0.25)  # with the model: resolved as the run resolves them
    assert settings_hash(DetectConfig(score_threshold=0.4), model) == settings_hash(DetectConfig(), model)
    assert settings_hash(DetectConfig(overlap=0.3), model) != settings_hash(DetectConfig(), model)
    monkeypatch.setattr("engine.__version__", "999.0")
    assert settings_hash(DetectConfig(model_path="/a/model.onnx")) != base  # another engine version
    first, second = scene_output_name("/x/2026/scene.tif"), scene_output_name("/x/2025/scene.tif")
    assert first != second and os.path.basename(first).startswith("scene-") and first.endswith(".gpkg")
