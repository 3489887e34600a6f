"""The one checkpoint format: a round trip through save/load with weights_only, and a pickle refused unrun."""

from __future__ import annotations

import pickle

import pytest

torch = pytest.importorskip("torch")

from engine.config import ModelConfig  # noqa: E402
from engine.errors import ModelError  # noqa: E402
from engine.network.checkpoint import load_checkpoint, load_checkpoint_model, save_checkpoint  # noqa: E402
from engine.network.r2cnn import build_r2cnn  # noqa: E402
from engine.runtime.torch_runtime import load_torch_detector  # noqa: E402
from tests.engine.hostile_files import RunsCode  # noqa: E402

CONFIG = ModelConfig(patch_size=64, rpn_pre_nms_top_n=100, rpn_post_nms_top_n=20, anchor_sizes_px=(8.0, 16.0))


def test_round_trip_keeps_weights_config_and_extras(tmp_path):
    torch.manual_seed(0)
    model = build_r2cnn(CONFIG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sum(p.square().sum() for p in model.parameters()).backward()
    optimizer.step()
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model, optimizer=optimizer.state_dict(), step=3, history="[]")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # atomic: no temp file left
    state = load_checkpoint(path)
    assert state["step"] == 3 and state["history"] == "[]"
    assert ModelConfig.from_json(state["model_config"]) == CONFIG
    torch.optim.AdamW(model.parameters(), lr=1e-3).load_state_dict(state["optimizer"])
    loaded = load_checkpoint_model(path)
    assert not loaded.training and loaded.config == CONFIG
    expected = model.state_dict()
    assert all(torch.equal(value, expected[key]) for key, value in loaded.state_dict().items())


def test_only_plain_extras_and_no_reserved_keys(tmp_path):
    model = build_r2cnn(CONFIG)
    with pytest.raises(TypeError, match="not a tensor or plain value"):
        save_checkpoint(tmp_path / "a.pt", model, history={"when": object()})
    with pytest.raises(ValueError, match="model_config"):
        save_checkpoint(tmp_path / "b.pt", model, model_config="{}")
    assert list(tmp_path.iterdir()) == []


def test_a_hostile_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran.txt"
    hostile = tmp_path / "hostile.pt"
    torch.save({"model": RunsCode(marker)}, hostile)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(hostile)
    with pytest.raises(ModelError, match="not a weights-only r2cnn checkpoint") as caught:
        load_torch_detector(str(hostile), device="cpu")
    assert "weights_only=False" not in str(caught.value)
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps(RunsCode(marker), protocol=2))
    with pytest.raises(ModelError, match="refused"):
        load_torch_detector(str(plain), device="cpu")
    assert not marker.exists()


def test_the_runtime_does_not_import_training():
    import engine.runtime.torch_runtime as runtime

    source = open(runtime.__file__).read()
    assert "engine.training" not in source
