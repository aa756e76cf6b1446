"""``psfl hil``: results written, one-line errors, partial results kept on a dropped radio."""

from __future__ import annotations

import csv
import json
import socket

import pytest

from psfl.cli import main

SMALL = ["--steps", "0", "--set", "data.max_test=16", "--set", "data.max_train=16"]


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_hil_emulated_writes_results(tmp_path) -> None:
    out = tmp_path / "emu"
    rc = main(["hil", "--radio", "emulated", "--out", str(out), "--frames", "10", "--cfo",
               "-4.5", *SMALL])
    assert rc == 0
    for name in ("summary.json", "frames.csv", "constellation.png", "images.png",
                 "frames.png", "config.toml"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["frames_detected"] == 10 and s["detection_rate"] == 1.0
    assert abs(s["cfo_hz_mean"] / s["scs_hz"] + 4.5) < 0.01
    assert s["evm_db_mean"] < -20
    assert abs(s["psnr_radio"] - s["psnr_simulated"]) < 1.0
    rows = _rows(out / "frames.csv")
    assert len(rows) == 10 and all(r["detected"] == "True" for r in rows)


def test_hil_twin_dropped_connection_keeps_frames(tmp_path, capsys) -> None:
    out = tmp_path / "drop"
    rc = main(["hil", "--radio", "twin", "--out", str(out), "--frames", "16",
               "--set", "hil.frames_per_buffer=4", "--twin-drop-after", "5", *SMALL])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("psfl hil: error: connection to the Pluto")
    assert "lost during rx()" in errors[0]
    rows = _rows(out / "frames.csv")
    s = json.loads((out / "summary.json").read_text())
    assert s["error"] and 4 <= s["frames_detected"] < 16
    assert sum(r["detected"] == "True" for r in rows) == s["frames_detected"]
    assert (out / "constellation.png").is_file()


def test_hil_pluto_unreachable_and_out_of_range(tmp_path, capsys) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    uri = f"ip:127.0.0.1:{port}"
    rc = main(["hil", "--uri", uri, "--out", str(tmp_path / "a"), "--frames", "2", *SMALL])
    assert rc == 2
    err = capsys.readouterr().err
    assert uri in err and "iio_info -s" in err and err.count("error:") == 1
    rc = main(["hil", "--radio", "pluto", "--uri", uri, "--out", str(tmp_path / "b"),
               "--frames", "2", "--set", "hil.lo_hz=6e9", *SMALL])
    assert rc == 2
    err = capsys.readouterr().err
    assert "325 MHz-3.8 GHz" in err


@pytest.mark.parametrize("bad", ["hil.radio=hackrf", "hil.rx_gain_db=99"])
def test_hil_bad_config(tmp_path, capsys, bad) -> None:
    assert main(["hil", "--out", str(tmp_path / "c"), "--set", bad]) == 2
    assert "hil." in capsys.readouterr().err
