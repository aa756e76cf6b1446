"""Link budget and energy: hand-computed values and formulas, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psfl.phy import (
    PhyConfig,
    UplinkLink,
    airtime_s,
    compute_energy_j,
    dbm_to_w,
    los_probability,
    model_transfer_energy_j,
    path_loss_db,
    shannon_rate,
    snr_db_from_budget,
    snr_db_from_config,
    thermal_noise_dbm,
    transmit_energy_j,
    w_to_dbm,
)

KT0 = 10 * math.log10(1.380649e-23 * 290 / 1e-3)  # -173.98 dBm/Hz


def test_thermal_noise():
    assert thermal_noise_dbm(1e6) == pytest.approx(-113.98, abs=0.01)
    assert thermal_noise_dbm(20e6, 7.0) == pytest.approx(-173.98 + 73.01 + 7.0, abs=0.01)
    np.testing.assert_allclose(thermal_noise_dbm(np.array([1e3, 1e9])), [-143.98, -83.98],
                               atol=0.01)


def test_path_loss_hand_computed():
    # UMi LoS, 100 m ground, 3.5 GHz, h_BS 10 m, h_UT 1.5 m: breakpoint 4*9*0.5*3.5e9/c = 210 m.
    d3 = math.hypot(100.0, 8.5)  # 100.3606 m
    assert path_loss_db("umi", 100.0, 3.5e9, los=True) == pytest.approx(
        32.4 + 21 * math.log10(d3) + 20 * math.log10(3.5), abs=1e-9)
    assert path_loss_db("umi", 100.0, 3.5e9, los=True) == pytest.approx(85.31, abs=0.01)
    assert path_loss_db("umi", 100.0, 3.5e9, los=False) == pytest.approx(104.64, abs=0.01)
    # Beyond the breakpoint (300 m): 40 log10 d3 - 9.5 log10(d_bp^2 + 8.5^2).
    d3 = math.hypot(300.0, 8.5)
    dbp = 4 * 9 * 0.5 * 3.5e9 / 299_792_458.0
    assert path_loss_db("umi", 300.0, 3.5e9, los=True) == pytest.approx(
        32.4 + 40 * math.log10(d3) + 20 * math.log10(3.5) - 9.5 * math.log10(dbp**2 + 8.5**2),
        abs=1e-9)
    # UMa NLoS 500 m, 2 GHz, h_BS 25 m: 13.54 + 39.08 log10 d3 + 20 log10 fc.
    d3 = math.hypot(500.0, 23.5)
    assert path_loss_db("uma", 500.0, 2e9, los=False) == pytest.approx(
        13.54 + 39.08 * math.log10(d3) + 20 * math.log10(2.0), abs=1e-9)
    # RMa LoS 1 km, 0.7 GHz, h_BS 35 m (breakpoint 2*pi*35*1.5*0.7e9/c = 770 m): PL2.
    assert path_loss_db("rma", 1000.0, 0.7e9, los=True) > path_loss_db("rma", 700.0, 0.7e9)
    # NLoS is never below LoS.
    d = np.array([20.0, 50.0, 200.0, 1000.0])
    for s in ("umi", "uma", "rma"):
        assert np.all(path_loss_db(s, d, los=False) >= path_loss_db(s, d, los=True))


def test_los_probability():
    assert los_probability("umi", 10.0) == 1.0
    assert los_probability("umi", 100.0) == pytest.approx(0.18 + math.exp(-100 / 36) * 0.82)
    assert los_probability("uma", 100.0) == pytest.approx(0.18 + math.exp(-100 / 63) * 0.82)
    assert los_probability("rma", 1010.0) == pytest.approx(math.exp(-1.0))


def test_snr_from_budget_hand_computed():
    # 23 dBm, 0 dBi, UMi LoS 100 m, 18.36 MHz, NF 7 dB:
    # N = -173.98 + 72.64 + 7 = -94.34 dBm; SNR = 23 - 85.31 + 94.34 = 32.03 dB.
    snr = snr_db_from_budget(23.0, 100.0, 18.36e6, scenario="umi", los=True)
    assert snr == pytest.approx(23.0 - 85.314 - (KT0 + 10 * math.log10(18.36e6) + 7.0),
                                abs=0.01)
    assert snr == pytest.approx(32.03, abs=0.02)
    # Antenna gains add 1:1; LoS-averaged SNR lies between NLoS and LoS.
    assert snr_db_from_budget(23.0, 100.0, 18.36e6, tx_gain_dbi=2, rx_gain_dbi=5,
                              los=True) == pytest.approx(snr + 7.0)
    avg = snr_db_from_budget(23.0, 100.0, 18.36e6)
    nlos = snr_db_from_budget(23.0, 100.0, 18.36e6, los=False)
    assert nlos < avg < snr
    cfg = PhyConfig(channel="umi", num_subcarriers=612, fft_size=1024, cp_length=72)
    assert snr_db_from_config(cfg, los=True) == pytest.approx(snr)
    assert snr_db_from_config(cfg, path_loss=False) == pytest.approx(
        23.0 - (KT0 + 10 * math.log10(18.36e6) + 7.0))


def test_energy_formulas():
    assert dbm_to_w(23.0) == pytest.approx(0.19953, rel=1e-4)
    assert w_to_dbm(1.0) == pytest.approx(30.0)
    assert shannon_rate(1e6, 0.0) == pytest.approx(1e6)  # log2(2) = 1
    assert shannon_rate(20e6, 10 * math.log10(15)) == pytest.approx(80e6)  # log2(16) = 4
    assert transmit_energy_j(0.2, 1e-3) == pytest.approx(2e-4)
    # p b / (B log2(1+SNR)): 0.2 W, 1 Mbit, 10 MHz, SNR 15 (log2 16 = 4) -> 0.2 * 1e6 / 4e7.
    assert model_transfer_energy_j(1e6, 0.2, 10e6, 10 * math.log10(15)) == pytest.approx(5e-3)
    # kappa C f^2: 1e-28 * 1e9 cycles * (1e9 Hz)^2 = 0.1 J.
    assert compute_energy_j(1e9, 1e9) == pytest.approx(0.1)
    assert compute_energy_j(1e9, 2e9, kappa=1e-27) == pytest.approx(4.0)
    np.testing.assert_allclose(shannon_rate(np.array([1e6, 2e6]), 0.0), [1e6, 2e6])


def test_airtime_matches_link_and_numerology():
    cfg = PhyConfig()  # 72 sc, 14 symbols, 2 pilot symbols, 30 kHz, FFT 128, CP 9
    slot = 14 * (128 + 9) / (128 * 30e3)  # 0.4995 ms
    link = UplinkLink(cfg)
    nd = 72 * 12
    assert airtime_s(1, cfg) == pytest.approx(slot)
    assert airtime_s(nd, cfg) == pytest.approx(slot)
    assert airtime_s(nd + 1, cfg) == pytest.approx(2 * slot)
    assert airtime_s(0, cfg) == 0.0
    for k in (1, 1000, 5000):
        assert airtime_s(k, cfg) == pytest.approx(link.airtime_s(k))
    # Energy of a transmission = power x airtime.
    e = transmit_energy_j(dbm_to_w(23.0), airtime_s(5000, cfg))
    assert e == pytest.approx(0.19953 * 6 * slot, rel=1e-4)


@pytest.mark.parametrize("call, match", [
    (lambda: thermal_noise_dbm(-1.0), "bandwidth_hz must be positive"),
    (lambda: thermal_noise_dbm(float("nan")), "bandwidth_hz must be finite"),
    (lambda: path_loss_db("umi", -10.0), "distance_m must be positive"),
    (lambda: path_loss_db("suburb", 10.0), "valid scenarios are: umi, uma, rma"),
    (lambda: snr_db_from_budget(float("nan"), 100.0, 1e6), "tx_power_dbm must be finite"),
    (lambda: snr_db_from_budget(23.0, 0.0, 1e6), "distance_m must be positive"),
    (lambda: transmit_energy_j(-0.1, 1.0), "tx_power_w must be non-negative"),
    (lambda: transmit_energy_j(0.1, -1.0), "airtime must be non-negative"),
    (lambda: model_transfer_energy_j(1e6, -1.0, 1e6, 10.0), "tx_power_w"),
    (lambda: model_transfer_energy_j(1e6, 1.0, 1e6, float("inf")), "snr_db must be finite"),
    (lambda: compute_energy_j(1e9, -1.0), "freq_hz must be non-negative"),
    (lambda: airtime_s(-3, PhyConfig()), "num_symbols must be non-negative"),
    (lambda: airtime_s(2.5, PhyConfig()), "whole number"),
    (lambda: PhyConfig(tx_power_dbm=float("nan")), "phy.tx_power_dbm"),
])
def test_bad_input_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_type_is_type_error():
    with pytest.raises(TypeError, match="bandwidth_hz must be a number"):
        thermal_noise_dbm("wide")
