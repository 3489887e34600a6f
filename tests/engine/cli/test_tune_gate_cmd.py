import pickle

from engine.cli.main import main
from tests.engine.hostile_files import RunsCode


def test_bad_inputs_end_in_one_line(tmp_path, capsys):
    out = tmp_path / "tuned.pt"
    assert main(["tune-gate", str(tmp_path / "absent.pt"), "-o", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    marker = tmp_path / "ran.txt"
    hostile = tmp_path / "hostile.pt"
    hostile.write_bytes(pickle.dumps(RunsCode(marker), protocol=2))
    assert main(["tune-gate", str(hostile), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a weights-only r2cnn checkpoint" in err and err.count("\n") == 1
    assert not marker.exists() and not out.exists()
    assert main(["tune-gate", str(hostile), "-o", str(out), "--scenes", "0"]) == 2
    assert "--scenes" in capsys.readouterr().err
    out.write_bytes(b"")
    assert main(["tune-gate", str(hostile), "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
