"""The command line: help, the demo's outputs, and one-line errors that keep earlier results."""

import json
import subprocess
import sys

import pytest

from psfl.cli import COMMANDS, main


def test_help_lists_registered_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_demo_quick_writes_results(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    for name in ("config.toml", "summary.json", "partition.csv", "data.png", "log.txt"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "demo"
    assert summary["data"]["train_images"] == 400
    assert (out / "data.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'source = "skimage"' in (out / "config.toml").read_text()


def test_bad_input_is_one_line_and_keeps_earlier_results(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    before = (out / "summary.json").read_text()
    capsys.readouterr()
    code = main(["demo", "--quick", "--out", str(out), "--set", "data.source=folder",
                 "--set", f"data.path={str(tmp_path / 'missing')!r}"])
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0] and lines[0].startswith("psfl demo")
    assert (out / "summary.json").read_text() == before


def test_console_script_reports_config_errors():
    proc = subprocess.run([sys.executable, "-m", "psfl.cli", "demo", "--set", "data.alpha=-1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "data.alpha: -1.0 is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_same_seed_same_partition(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["demo", "--quick", "--out", str(a), "--seed", "4"]) == 0
    assert main(["demo", "--quick", "--out", str(b), "--seed", "4"]) == 0
    assert (a / "partition.csv").read_text() == (b / "partition.csv").read_text()
