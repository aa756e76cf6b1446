"""Time-domain link: equals the frequency-domain link where that is exact; ISI and Doppler ICI
against their closed forms; XLA; the frequency-domain validity warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf
from sionna.phy import config as sn_config
from sionna.phy.channel import cir_to_time_channel

from psfl.config import ConfigError
from psfl.phy import PhyConfig, UplinkLink
from psfl.phy.timedomain import sinc_taps
from psfl.phy.validity import (
    FrequencyDomainValidityWarning,
    ici_power_jakes,
    isi_power,
    max_doppler_hz,
)

from .test_phy_channels import post_eq_snr_db

# Full occupancy (72 of 72 bins): the ISI/ICI formulas averaged over the subcarriers are exact.
FULL = dict(num_subcarriers=72, fft_size=72, cp_length=4, pilot_pattern="empty",
            domain="time")


def interference(cfg, num_slots=256, seed=3):
    """Noiseless received grid minus channel times sent grid, on the middle OFDM symbols
    (symbol 0 has no previous and the last no next symbol to leak in). Returns the mean error
    power, its standard error over slots, and the time-domain block."""
    link = UplinkLink(cfg)
    sn_config.seed = seed
    shape = [num_slots, cfg.num_ofdm_symbols, cfg.num_subcarriers]
    x = tf.complex(tf.random.normal(shape), tf.random.normal(shape)) / np.sqrt(2)
    y, h, _ = link.time_channel(x)
    e2 = np.abs((y - h * x[:, None]).numpy()[:, :, 1:-1]) ** 2
    per_slot = e2.mean(axis=(1, 2, 3))
    return per_slot.mean(), per_slot.std() / np.sqrt(num_slots), link.time_channel


def test_time_equals_frequency_where_both_valid():
    """TDL-A at 30 ns (all paths well inside the 2.3 us CP), 1 m/s (f_D T = 1e-4): the
    post-equalization SNR of the two domains agrees within 0.1 dB, perfect CSI and LS."""
    kw = dict(channel="tdl-a", speed_mps=1.0, delay_spread_s=30e-9)
    for csi in ("perfect", "ls"):
        f, cf = post_eq_snr_db(UplinkLink(PhyConfig(csi=csi, **kw)), 20.0)
        # the same seed: the same channel and noise draws in both domains (with other draws
        # the LS figure alone moves by tenths of a dB)
        t, ct = post_eq_snr_db(UplinkLink(PhyConfig(csi=csi, domain="time", **kw)), 20.0)
        assert abs(f - t) < 0.1, (csi, f, t)
        assert abs(cf - ct) < 0.05, (csi, cf, ct)
    assert abs(t - 18.9) < 0.3  # LS loses about 1.1 dB, as in the frequency domain


def test_isi_power_matches_taps_beyond_the_cp():
    """TDL-A at 1 us (paths to 9.7 us) with a 4-sample CP (1.85 us): the error power equals
    sum_l E|h_l|^2 * 2 e_l / N, e_l the excess of tap l beyond the ISI-free lags [0, cp]; with
    a 30-sample CP (13.9 us) only the sinc precursors (lags < 0) of fractional delays remain."""
    measured = {}
    for cp in (4, 30):
        cfg = PhyConfig(channel="tdl-a", delay_spread_s=1e-6, **{**FULL, "cp_length": cp})
        p, se, tc = interference(cfg)
        fs, n = tc.sampling_frequency, cfg.fft_size
        delays, powers = tc.sampler.path_delays_s, tc.sampler.path_powers
        lags = np.arange(tc.l_min, tc.l_max + 1)
        pdp = (powers[:, None] * np.sinc(lags[None, :] - delays[:, None] * fs) ** 2).sum(0)
        excess = np.maximum(lags - cp, 0) + np.maximum(-lags, 0)
        theory = float(np.sum(pdp * 2 * excess / n))
        # Precursor ISI varies more from slot to slot: tolerance from its standard error.
        assert se < (0.03 if cp == 4 else 0.1) * p
        assert abs(p / theory - 1) < (0.08 if cp == 4 else 0.25), (cp, p, theory)
        measured[cp] = p
        if cp == 4:
            # The continuous-delay estimate of the validity check is within 25 % of it.
            cont = isi_power(delays, powers, cp / fs, 1 / cfg.scs_hz)
            assert abs(cont / theory - 1) < 0.25
    assert measured[30] < measured[4] / 10


def test_doppler_ici_matches_jakes():
    """100 m/s at 10 GHz, 30 kHz (f_D T = 0.111), TDL-A at 10 ns (no ISI): ICI power
    1 - N^-2 sum J0(2 pi f_D T (n-m)/N) = 0.0201 = (pi f_D T)^2 / 6 to 1.3 %; the issue's
    (pi f_D T)^2 / 3 is the bound for any Doppler spectrum, twice the Jakes value."""
    cfg = PhyConfig(channel="tdl-a", delay_spread_s=10e-9, speed_mps=100.0, carrier_hz=10e9,
                    **FULL)
    p, se, _ = interference(cfg, num_slots=512)
    fdt = max_doppler_hz(cfg) / cfg.scs_hz
    theory = ici_power_jakes(fdt, cfg.fft_size)
    assert abs(theory / ((np.pi * fdt) ** 2 / 6) - 1) < 0.02
    assert se < 0.03 * p, se / p  # the ICI of one realization varies by 0.6x its mean
    assert abs(p / theory - 1) < 0.1, (p, theory)
    # The frequency-domain link has none: same configuration, error zero up to float32.
    static = PhyConfig(channel="tdl-a", delay_spread_s=10e-9, speed_mps=0.0, **FULL)
    assert interference(static, num_slots=16)[0] < 1e-4


def test_sinc_taps_equal_sionna_cir_to_time_channel():
    sn_config.seed = 1
    a = tf.complex(tf.random.normal([2, 1, 1, 1, 1, 5, 3]), tf.random.normal([2, 1, 1, 1, 1, 5, 3]))
    tau = tf.random.uniform([2, 1, 1, 5], 0.0, 2e-6)
    ref = cir_to_time_channel(3.84e6, a, tau, -6, 14, normalize=False)[:, 0, 0, 0, 0]
    g = sinc_taps(tau[:, 0, 0], 3.84e6, -6, 14)
    ours = tf.linalg.matmul(tf.transpose(a[:, 0, 0, 0, 0], [0, 2, 1]),
                            tf.complex(g, tf.zeros_like(g)))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-5)


@pytest.mark.parametrize("channel", ["cdl-c", "umi"])
def test_other_cir_channels_run_and_keep_gain(channel):
    """CDL and system-level channels go through the waveform too; with their delays inside
    the CP the channel seen has the frequency domain's mean gain."""
    kw = dict(channel=channel, num_rx_ant=2, distance_m=40.0, delay_spread_s=30e-9,
              num_ofdm_symbols=4, pilot_ofdm_symbol_indices=(0,))
    gains = {}
    for domain in ("frequency", "time"):
        sn_config.seed = 2
        link = UplinkLink(PhyConfig(domain=domain, **kw))
        out = link.simulate(tf.ones([48, link.num_data_per_slot], tf.complex64), 0.0)
        assert out["y"].shape == (48, link.num_data_per_slot)
        gains[domain] = 10 * np.log10(out["gain"].numpy().mean())
    assert abs(gains["time"] - gains["frequency"]) < 1.5, gains


def test_time_domain_eager_and_xla_same_statistics():
    link = UplinkLink(PhyConfig(channel="tdl-c", csi="ls", speed_mps=3.0, domain="time",
                                delay_spread_s=100e-9, num_ofdm_symbols=4,
                                pilot_ofdm_symbol_indices=(0, 3)))
    k = link.num_data_per_slot
    results = {}
    # Plain graph mode is what XLA compiles; tracing Sionna's TDL alone takes ~7 s per mode.
    for mode, fn in [("eager", link), ("xla", tf.function(link, jit_compile=True))]:
        sn_config.seed = 4
        x = tf.complex(tf.random.normal([64, k]), tf.random.normal([64, k])) / np.sqrt(2)
        y, no = fn(x, tf.constant(15.0))
        assert y.shape == (64, k) and no.shape == (64, k)
        results[mode] = np.mean(np.abs(y.numpy() - x.numpy()) ** 2 / no.numpy())
    for mode, calib in results.items():
        assert abs(calib - 1) < 0.15, (mode, calib)


def test_time_domain_refuses_flat_channels():
    for channel in ("awgn", "rayleigh"):
        with pytest.raises(ConfigError, match="phy.domain='frequency'"):
            PhyConfig(channel=channel, domain="time")
    with pytest.raises(ConfigError, match="phy.domain"):
        PhyConfig(domain="wavelet")


def test_validity_warning_fires_outside_and_not_inside():
    with pytest.warns(FrequencyDomainValidityWarning, match='phy.domain = "time"') as rec:
        UplinkLink(PhyConfig(channel="tdl-a", delay_spread_s=1e-6))
    assert len(rec) == 1 and "cp_length" in str(rec[0].message)
    with pytest.warns(FrequencyDomainValidityWarning, match="scs_hz"):
        UplinkLink(PhyConfig(channel="tdl-a", speed_mps=150.0, carrier_hz=28e9))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FrequencyDomainValidityWarning)
        UplinkLink(PhyConfig())
        UplinkLink(PhyConfig(channel="tdl-c", delay_spread_s=300e-9, speed_mps=30.0))
        UplinkLink(PhyConfig(channel="umi"))
        UplinkLink(PhyConfig(channel="tdl-a", delay_spread_s=1e-6, domain="time"))


@pytest.mark.parametrize("kw", [
    dict(channel="tdl-a", delay_spread_s=1e-6),  # ISI -22.5 dB (guard bands: cross terms)
    dict(channel="tdl-a", delay_spread_s=10e-9, speed_mps=100.0, carrier_hz=10e9),  # ICI
])
def test_time_domain_no_eff_includes_isi_and_ici(kw):
    """The expected ISI + ICI per subcarrier (validity.leakage_matrix, ici_per_subcarrier)
    matches the measured error of the noiseless waveform, and with perfect CSI at 30 dB,
    where it exceeds the noise, E[|x_hat - x|^2 / no_eff] stays 1."""
    cfg = PhyConfig(domain="time", pilot_pattern="empty", **kw)
    p, se, tc = interference(cfg, num_slots=512)
    expected = float(np.mean(tc.interference_power.numpy()))
    assert abs(p / expected - 1) < 0.1, (p, expected)
    _, calib = post_eq_snr_db(UplinkLink(PhyConfig(domain="time", **kw)), 30.0)
    assert abs(calib - 1) < 0.1, calib
