"""``psfl compare``: headline figures of several runs, one table and one plot; bad targets."""

from __future__ import annotations

import csv
import json

from psfl.cli import main
from psfl.commands.compare import headline
from psfl.results import RunDir
from tests.figures import assert_figures


def _link_run(path, psnr0, psnr10, seed):
    with RunDir(path) as run:
        run.write_summary({
            "command": "link", "seconds": 3.0, "channel": "awgn", "seed": seed,
            "provenance": {"commit": "abc123"}, "cost": {"params": 5},
            "results": [{"dataset": "test", "snr_db": 0.0, "codec_psnr": psnr0,
                         "digital_psnr": 12.0},
                        {"dataset": "test", "snr_db": 10.0, "codec_psnr": psnr10,
                         "digital_psnr": 25.0}]})


def test_headline_figures_rule():
    s = {"command": "train", "final_global_psnr": 24.5, "comm_energy_j": 3.0, "rounds": 5,
         "federation": {"personal_psnr": 26.0, "mus": 5}, "provenance": {"seconds": 9.0},
         "flag": True}
    assert headline(s) == {"final_global_psnr": 24.5, "comm_energy_j": 3.0,
                           "federation.personal_psnr": 26.0}


def test_compare_link_runs_table_and_plot(tmp_path, capsys):
    _link_run(tmp_path / "a", 20.0, 25.0, 0)
    _link_run(tmp_path / "b", 21.0, 27.5, 1)
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "psnr@10dB" in printed and "27.5" in printed
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["run"] for r in rows] == ["a", "b"]
    assert [float(r["psnr@10dB"]) for r in rows] == [25.0, 27.5]
    assert [float(r["digital_psnr@0dB"]) for r in rows] == [12.0, 12.0]
    assert rows[1]["seed"] == "1" and rows[0]["commit"] == "abc123"
    assert_figures(out, "compare")
    assert json.loads((out / "summary.json").read_text())["command"] == "compare"


def test_compare_refuses_unreadable_targets(tmp_path, capsys):
    _link_run(tmp_path / "a", 20.0, 25.0, 0)
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "summary.json").write_text('{"command": "li')
    for target, message in ((tmp_path / "nothing", "no summary.json there"),
                            (tmp_path / "torn", "cannot be read as JSON")):
        rc = main(["compare", str(tmp_path / "a"), str(target), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "compare.png").exists()  # nothing drawn from a bad set
