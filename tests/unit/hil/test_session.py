"""psfl.hil.session: the run's log line and figure caption, with units from the shared helpers
(:func:`psfl.plotting.si`, :func:`psfl.results.duration`)."""

from __future__ import annotations

import numpy as np

from psfl.hil.config import HilConfig
from psfl.hil.radios import EmulatedRadio, PlutoRadio
from psfl.hil.session import HilSession, frames_line, result_line, settings_caption
from psfl.plotting import si
from psfl.results import duration


def _session(radio, **summary) -> HilSession:
    base = {"k": 512, "frames_sent": 4, "frames_detected": 3, "snr_db_mean": 25.44,
            "evm_db_mean": -23.41, "cfo_hz_mean": -6.94, "psnr_radio": 10.234,
            "psnr_simulated": 10.229, "receiver_s": 0.0108, "frame_airtime_s": 0.00064,
            "checkpoint": "pretrained:csc"}
    return HilSession(summary={**base, **summary}, radio=radio, fmt=None, result=None,
                      z=np.zeros((0, 512)), images=np.zeros((0, 32, 32, 3)), plan=None,
                      cfo_set_hz=radio.cfo_set_hz(HilConfig(), 30e3), decoded=None, error=None)


def test_result_line_has_every_measure_with_its_unit():
    line = result_line(_session(EmulatedRadio))
    assert line == ("emulated front end: 3/4 frames detected, SNR 25.4 dB per RE measured, "
                    "EVM -23.4 dB, CFO -6.9 Hz, PSNR 10.23 dB (simulated link 10.23 dB), "
                    "receiver 10.8 ms for 2.6 ms of air time")
    assert "CFO 22.5 kHz" in result_line(_session(EmulatedRadio, cfo_hz_mean=22_487.0))


def test_caption_names_the_radio_and_what_was_set():
    hil = HilConfig(uri="ip:10.0.0.2")
    assert settings_caption(hil, _session(PlutoRadio)) == [
        "ADALM-Pluto at ip:10.0.0.2", "16 frames of k = 512 symbols", "codec pretrained:csc"]
    untrained = _session(EmulatedRadio, checkpoint="", model="csc", trained_steps=0)
    assert settings_caption(hil, untrained) == [
        "emulated front end", "CFO set 0.0 Hz", "16 frames of k = 512 symbols",
        "codec csc, untrained"]


def test_frames_line_counts_and_averages_in_power():
    rows = [{"detected": True, "snr_db": 10.0, "evm_db": -10.0},
            {"detected": False}, {"detected": True, "snr_db": 20.0, "evm_db": -20.0}]
    assert frames_line(rows, 8) == "3/8 frames sent, 2 detected, SNR 17.4 dB, EVM -15.0 dB"


def test_shared_units():
    assert [si(v, "Hz") for v in (325e6, 3.8e9, 520833.333)] == [
        "325 MHz", "3.8 GHz", "520.833 kHz"]
    assert si(-12.345, "Hz", places=1) == "-12.3 Hz"
    assert [si(v, "Hz", places=1) for v in (0.2984, -0.04, 0.0)] == ["0.3 Hz", "-0.0 Hz",
                                                                     "0.0 Hz"]
    assert [duration(s) for s in (0.0042, 4.2, 45.0, 125.0, 3720.0)] == [
        "4.2 ms", "4.2 s", "45 s", "2 min 05 s", "1 h 02 min"]
