"""The command line: help, the demo's outputs, and one-line errors that keep earlier results."""

import json
import subprocess
import sys

import pytest

from psfl.cli import COMMANDS, main
from tests.figures import assert_figures


def test_help_lists_registered_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def test_demo_quick_writes_results(demo_dir):
    out = demo_dir
    for name in ("config.toml", "summary.json", "partition.csv", "log.txt", "rounds.csv",
                 "mu_rounds.csv", "final.csv", "link.csv", "energy_vs_distance.csv",
                 "checkpoint/round.npz"):
        assert (out / name).is_file(), name
    # every figure of the demo's stages (data, federation report, link, energy)
    assert_figures(out, "data", "psnr_vs_round", "energy_vs_round", "quality_vs_energy",
                   "prune_vs_snr", "link_psnr_vs_snr", "energy_vs_distance",
                   "energy_prune_vs_snr", "compute_vs_comm")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "demo"
    assert summary["data"]["train_images"] == 160
    assert summary["federation"]["rounds"] == 1 and summary["federation"]["strategy"] == "psfl"
    assert [r["snr_db"] for r in summary["link"]] == [0.0, 10.0]
    assert (out / "data.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'source = "skimage"' in (out / "config.toml").read_text()


def test_bad_input_is_one_line_and_keeps_earlier_results(demo_dir, tmp_path, capsys):
    out = demo_dir
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
    from psfl.config import load_config
    from psfl.federation.demo import stage_data
    from psfl.results import RunDir

    cfg = load_config(None, ["data.max_train=300", "run.seed=4"])
    a, b, c = (RunDir(tmp_path / n) for n in "abc")
    stage_data(cfg, a)
    stage_data(cfg, b)
    stage_data(cfg.replace("run", seed=5), c)
    assert (a.path / "partition.csv").read_text() == (b.path / "partition.csv").read_text()
    assert (a.path / "partition.csv").read_text() != (c.path / "partition.csv").read_text()


def test_resume_needs_an_earlier_run(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    assert "no config.toml there" in capsys.readouterr().err


def test_energy_command(tmp_path):
    out = tmp_path / "energy"
    assert main(["energy", "--out", str(out), "--distances", "20:400:6"]) == 0
    rows = (out / "energy_vs_distance.csv").read_text().splitlines()
    assert len(rows) == 7
    summary = json.loads((out / "summary.json").read_text())
    assert [c["mentor"] for c in summary["compute_vs_comm"]] == ["none", "gsc-s", "gsc-m",
                                                                  "gsc-l"]
    energies = [c["compute_energy_j"] for c in summary["compute_vs_comm"]]
    assert energies == sorted(energies)  # bigger mentors cost more computation
