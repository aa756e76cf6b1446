"""``psfl hil``: results written, one-line errors, partial results kept on a dropped radio."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from psfl.cli import main
from tests.figures import assert_figures

SMALL = ["--steps", "0", "--set", "data.max_test=16", "--set", "data.max_train=16"]


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_hil_emulated_writes_results(tmp_path) -> None:
    out = tmp_path / "emu"
    rc = main(["hil", "--radio", "emulated", "--out", str(out), "--frames", "10", "--cfo",
               "-4.5", *SMALL])
    assert rc == 0
    for name in ("summary.json", "frames.csv", "config.toml"):
        assert (out / name).is_file(), name
    assert_figures(out, "constellation", "images", "frames")
    s = json.loads((out / "summary.json").read_text())
    assert s["frames_detected"] == 10 and s["detection_rate"] == 1.0
    assert abs(s["cfo_hz_mean"] / s["scs_hz"] + 4.5) < 0.01
    assert s["evm_db_mean"] < -20
    assert abs(s["psnr_radio"] - s["psnr_simulated"]) < 1.0
    rows = _rows(out / "frames.csv")
    assert len(rows) == 10 and all(r["detected"] == "True" for r in rows)
    # Written row by row now; the columns and their order are still those of one write.
    assert list(rows[0]) == ["frame", "detected", "batch", "captures", "timing", "cfo_hz",
                             "cfo_sc", "snr_db", "evm_db", "pilot_evm_db", "metric"]
    assert [int(r["frame"]) for r in rows] == list(range(10))


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
    assert len(rows) == s["frames_sent"]
    assert_figures(out, "constellation", "frames", "images")


# The default numerology's offset between the two SNR references (psfl.hil.snr): 72 of 128
# subcarriers occupied, 128 guard samples per 2457-sample frame, 352 of the 1224 REs of S1, S2,
# HDR and one slot left empty by k = 512 symbols.
RE_MINUS_WAVEFORM_DB = float(10 * np.log10(128 / 72) + 10 * np.log10(2457 / 2329)
                             + 10 * np.log10(1224 / 872))


def test_hil_snr_reference_is_what_the_twin_measures(tmp_path, capsys) -> None:
    """``--snr`` per resource element (the default) is what the receiver measures; relative to
    the mean TX waveform power it reads RE_MINUS_WAVEFORM_DB higher per RE. The log line and
    the help carry the definition with units."""
    assert RE_MINUS_WAVEFORM_DB == pytest.approx(4.20, abs=0.01)
    with pytest.raises(SystemExit):
        main(["hil", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "per resource element" in help_text and "mean power of the whole TX" in help_text
    measured = {}
    for ref, snr in (("re", 25.0), ("waveform", 15.0)):
        out = tmp_path / ref
        argv = ["hil", "--radio", "twin", "--out", str(out), "--frames", "8", "--snr", str(snr),
                *SMALL]
        assert main(argv if ref == "re" else [*argv, "--snr-reference", ref]) == 0
        s = json.loads((out / "summary.json").read_text())
        assert s["frames_detected"] == 8
        assert s["snr_set_db"] == snr and s["snr_reference"] == ref
        assert s["snr_re_minus_waveform_db"]["total"] == pytest.approx(RE_MINUS_WAVEFORM_DB,
                                                                       abs=0.01)
        measured[ref] = s["snr_db_mean"] - snr
        log = (out / "log.txt").read_text()
        assert re.search(r"Pluto twin: 8/8 frames detected, SNR \d+\.\d dB per RE measured "
                         rf"\(set {snr:.1f} dB (per RE|relative to the mean TX waveform power, "
                         r"\d+\.\d dB per RE expected)\), EVM -\d+\.\d dB, CFO -?\d+\.\d Hz, "
                         r"PSNR \d+\.\d\d dB \(simulated link \d+\.\d\d dB\), "
                         r"receiver \d+\.\d ms for 5\.1 ms of air time", log), log
        assert "SNR per RE minus SNR relative to the mean TX waveform power = 4.20 dB" in log
    assert abs(measured["re"]) < 0.5, measured
    assert abs(measured["waveform"] - RE_MINUS_WAVEFORM_DB) < 0.5, measured


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


@pytest.mark.parametrize("bad", ["hil.radio=hackrf", "hil.rx_gain_db=99", "hil.rx_gain_db=72"])
def test_hil_bad_config(tmp_path, capsys, bad) -> None:
    assert main(["hil", "--out", str(tmp_path / "c"), "--set", bad]) == 2
    assert "hil." in capsys.readouterr().err


def test_hil_gain_outside_the_lo_band_stops_before_any_work(tmp_path, capsys) -> None:
    """72 dB is in no gain table at 2.44 GHz ([-3 1 71]): one line naming the range, exit 2,
    and nothing trained or written (--steps would train a codec first)."""
    out = tmp_path / "g"
    rc = main(["hil", "--radio", "twin", "--out", str(out), "--steps", "50",
               "--set", "hil.rx_gain_db=72"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("error:") == 1 and len(err.strip().splitlines()) == 1
    assert "-3..71 dB" in err and "2.44 GHz" in err
    assert not out.exists()


def _data_rows(path) -> int:
    """Complete data rows in a CSV being written (a last line without its newline not counted)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return 0
    return max(text.count("\n") - 1, 0)


def test_hil_interrupted_keeps_decoded_frames(tmp_path) -> None:
    # A real process and a real SIGINT: the CLI's interrupt handling and the file on disk are
    # what is tested, not a KeyboardInterrupt raised by hand. 3000 frames take about a minute,
    # far longer than the test waits, so the run is always interrupted mid-way.
    out = tmp_path / "intr"
    cmd = [sys.executable, "-m", "psfl.cli", "hil", "--radio", "emulated", "--out", str(out),
           "--frames", "3000", "--set", "hil.frames_per_buffer=2", *SMALL]
    # faulthandler: a process that does not stop is made to print where it is (SIGABRT)
    env = {**os.environ, "PSFL_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONFAULTHANDLER": "1"}
    # started with SIGINT ignored, as a script's background job is: psfl must still stop
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                      signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 40
        while _data_rows(out / "frames.csv") < 6:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "frames.csv never reached 6 rows"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        at_signal = _data_rows(out / "frames.csv")
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"still running 60 s after SIGINT ({at_signal} rows then, "
                        f"{_data_rows(out / 'frames.csv')} now); where it was:\n{err[-6000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "interrupted; results written so far are kept" in err
    with open(out / "frames.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert header[:2] == ["frame", "detected"] and "snr_db" in header
    assert 6 <= len(rows) < 3000
    assert all(len(r) == len(header) for r in rows)
    assert [int(r[0]) for r in rows] == list(range(len(rows)))
    # The partial account in log.txt: never more frames than the file holds (an interrupt
    # between writing a row and counting it may leave it one short).
    m = re.search(r"interrupted after (\d+)/3000 frames sent, (\d+) detected",
                  (out / "log.txt").read_text())
    assert m and len(rows) - 1 <= int(m[1]) <= len(rows), m
    assert int(m[2]) == sum(r[1] == "True" for r in rows[: int(m[1])])
    assert not (out / "summary.json").exists()


def test_hil_frames_csv_appended_equals_written_at_once(tmp_path) -> None:
    # What the file held when it was written once at the end (RunDir.write_csv): same columns
    # (union of keys, first seen first), NaN and numpy scalars converted alike, missing keys
    # empty, even when a later row brings a key the first one lacked.
    from psfl.hil.session import FramesCsv
    from psfl.results import RunDir

    rows = [{"frame": 0, "detected": True, "snr_db": np.float64(21.5), "metric": np.float32(0.5)},
            {"frame": 1, "detected": False, "snr_db": float("nan"), "metric": float("nan")},
            {"frame": 2, "detected": True, "snr_db": 3.25, "extra": "a,b"},
            {"frame": 3, "detected": np.bool_(True), "snr_db": np.inf, "metric": 1}]
    expected = RunDir(tmp_path / "once").write_csv("frames.csv", rows).read_bytes()
    path = tmp_path / "frames.csv"
    path.write_text("an earlier run's file\n")
    appender = FramesCsv(path)
    for i, row in enumerate(rows):
        appender.append(row)
        # After every row the file on disk is complete, without closing it.
        assert path.read_bytes() == RunDir(tmp_path / f"p{i}").write_csv(
            "frames.csv", rows[: i + 1]).read_bytes()
    appender.close()
    assert path.read_bytes() == expected


def test_the_shipped_codec_is_sent_unless_steps_ask_to_train_one():
    import argparse

    from psfl.commands.hil import _shortcuts
    from psfl.config import load_config

    names = ("radio", "uri", "checkpoint", "steps", "frames", "snr", "cfo", "snr_reference")
    plain = argparse.Namespace(**dict.fromkeys(names))
    assert _shortcuts(plain, load_config(None)).hil.checkpoint == "pretrained:csc"
    hil = _shortcuts(argparse.Namespace(**{**vars(plain), "steps": 5}), load_config(None)).hil
    assert hil.checkpoint == "" and hil.train_steps == 5
    both = argparse.Namespace(**{**vars(plain), "steps": 5, "checkpoint": "x.keras"})
    assert _shortcuts(both, load_config(None)).hil.checkpoint == "x.keras"
