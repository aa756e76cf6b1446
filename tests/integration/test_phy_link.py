"""Uplink link: BER against closed forms, shapes/order, gradients, XLA, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erfc
from sionna.phy import config as sn_config
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from psfl.phy import CHANNELS, PhyConfig, UplinkLink
from psfl.phy.link import complex_normal


def q(x):
    return 0.5 * erfc(np.asarray(x) / np.sqrt(2.0))


def ber_qpsk_awgn(es_n0_db):
    return q(np.sqrt(10 ** (np.asarray(es_n0_db) / 10)))


def ber_16qam_awgn(es_n0_db):
    # Gray 16-QAM = two Gray 4-PAM; exact bit error probability per dimension.
    a = np.sqrt(10 ** (np.asarray(es_n0_db) / 10) / 5.0)
    return 0.75 * q(a) + 0.5 * q(3 * a) - 0.25 * q(5 * a)


def ber_qpsk_rayleigh(eb_n0_db):
    g = 10 ** (np.asarray(eb_n0_db) / 10)
    return 0.5 * (1 - np.sqrt(g / (1 + g)))


def simulate_ber(link, bits_per_symbol, snr_db, num_bits, batch=200, seed=1, fn=None):
    """Uncoded BER with Sionna's Gray QAM mapper and hard-decision demapper."""
    sn_config.seed = seed
    mapper = Mapper("qam", bits_per_symbol)
    demapper = Demapper("app", "qam", bits_per_symbol, hard_out=True)
    source = BinarySource()
    k = max(1, int(np.ceil(num_bits / bits_per_symbol / batch)))
    run = fn or link
    errors = total = 0
    b = source([batch, k * bits_per_symbol])
    x = mapper(b)
    y, no = run(x, tf.constant(snr_db, tf.float32))
    b_hat = demapper(y, no)
    errors += int(tf.reduce_sum(tf.cast(b != b_hat, tf.int64)))
    total += int(np.prod(b.shape))
    return errors / total


FAST = dict(num_subcarriers=12, fft_size=16, cp_length=1, num_ofdm_symbols=1,
            pilot_pattern="empty")


@pytest.mark.parametrize(
    "bps, snrs, theory",
    [(2, [2.5, 4.0, 6.0, 8.0, 10.0, 11.0], ber_qpsk_awgn),
     (4, [8.0, 10.0, 13.0, 16.0, 18.0], ber_16qam_awgn)],
)
def test_awgn_ber_matches_closed_form(bps, snrs, theory):
    link = UplinkLink(PhyConfig(channel="awgn"))
    for snr in snrs:
        p = float(theory(snr))
        assert 1e-4 < p < 1e-1
        n_bits = int(min(8e6, max(4e5, 1500 / p)))
        ber = simulate_ber(link, bps, snr, n_bits)
        assert abs(ber - p) / p < 0.10, f"{bps} bits/sym, {snr} dB: BER {ber:.3e} vs {p:.3e}"


def test_rayleigh_ber_matches_closed_form():
    # One RE-slot of 12 subcarriers per fade: 200k independent fades per point.
    link = UplinkLink(PhyConfig(channel="rayleigh", **FAST))
    for eb_n0 in [0.0, 5.0, 10.0, 15.0, 20.0]:
        es_n0 = eb_n0 + 10 * np.log10(2)
        ber = simulate_ber(link, 2, es_n0, 4.8e6, batch=20_000)
        p = float(ber_qpsk_rayleigh(eb_n0))
        assert abs(ber - p) / p < 0.10, f"Eb/N0 {eb_n0} dB: BER {ber:.3e} vs {p:.3e}"


def test_rayleigh_is_not_awgn():
    """Fading must survive normalization: at 10 dB Rayleigh BER is far above AWGN's."""
    awgn = simulate_ber(UplinkLink(PhyConfig(channel="awgn", **FAST)), 2, 10.0, 4e5)
    ray = simulate_ber(UplinkLink(PhyConfig(channel="rayleigh", **FAST)), 2, 10.0, 4e5,
                       batch=20_000)
    assert ray > 10 * awgn


def test_order_shapes_slots_and_padding():
    link = UplinkLink(PhyConfig(channel="awgn"))
    nd = link.num_data_per_slot
    assert nd == 72 * 12  # 14 symbols, 2 pilot symbols
    for k in (1, nd - 1, nd, nd + 1, 3 * nd + 5):
        assert link.num_slots(k) == -(-k // nd)
        assert link.channel_uses(k) == link.num_slots(k) * nd
        x = tf.complex(tf.random.normal([3, k]), tf.random.normal([3, k])) / np.sqrt(2)
        y, no = link(x, 60.0)
        assert y.shape == (3, k) and y.dtype == tf.complex64
        assert no.shape == (3, k) and no.dtype == tf.float32
        # At 60 dB the output is the input, in order.
        np.testing.assert_allclose(y.numpy(), x.numpy(), atol=5e-3)
        np.testing.assert_allclose(no.numpy(), 1e-6, rtol=1e-3)


def test_per_row_snr():
    link = UplinkLink(PhyConfig(channel="awgn"))
    x = tf.ones([2, 5000], tf.complex64)
    y, no = link(x, tf.constant([0.0, 20.0]))
    np.testing.assert_allclose(no.numpy()[:, 0], [1.0, 0.01], rtol=1e-5)
    mse = np.mean(np.abs(y.numpy() - 1) ** 2, axis=1)
    np.testing.assert_allclose(mse, [1.0, 0.01], rtol=0.1)


@pytest.mark.parametrize("channel, csi", [("awgn", "perfect"), ("tdl-a", "ls")])
def test_differentiable_wrt_x(channel, csi):
    link = UplinkLink(PhyConfig(channel=channel, csi=csi))
    x = tf.Variable(tf.complex(tf.random.normal([2, 100]), tf.random.normal([2, 100])))
    with tf.GradientTape() as tape:
        y, _ = link(x, 10.0)
        loss = tf.reduce_sum(tf.abs(y - 1.0) ** 2)
    g = tape.gradient(loss, x)
    assert g is not None and g.shape == x.shape
    assert np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0)


def test_eager_and_xla_same_statistics():
    link = UplinkLink(PhyConfig(channel="rayleigh", **FAST))
    xla = tf.function(link, jit_compile=True)
    eager = simulate_ber(link, 2, 10.0, 1.2e6, batch=20_000, seed=3)
    jit = simulate_ber(link, 2, 10.0, 1.2e6, batch=20_000, seed=4, fn=xla)
    p = float(ber_qpsk_rayleigh(10.0 - 10 * np.log10(2)))
    assert abs(eager - p) / p < 0.1 and abs(jit - p) / p < 0.1
    assert abs(eager - jit) / p < 0.1


def test_complex_normal_statistics_in_every_mode():
    draws = {}
    for mode, fn in [("eager", complex_normal), ("graph", tf.function(complex_normal)),
                     ("xla", tf.function(complex_normal, jit_compile=True))]:
        sn_config.seed = 7
        draws[mode] = fn([400_000]).numpy()
    for z in draws.values():
        assert z.dtype == np.complex64
        assert abs(np.mean(np.abs(z) ** 2) - 1.0) < 0.01
        assert abs(np.var(z.real) - 0.5) < 0.01 and abs(np.var(z.imag) - 0.5) < 0.01
        assert abs(np.mean(z.real * z.imag)) < 0.01 and abs(np.mean(z)) < 0.01
        # Gaussian tails: P(|z|^2 > 4) = exp(-4) for CN(0, 1).
        assert abs(np.mean(np.abs(z) ** 2 > 4) / np.exp(-4) - 1) < 0.05
    # Same seed, same stream eagerly and in graph mode (XLA lays out Philox's counters its
    # own way: same statistics, other samples).
    np.testing.assert_allclose(draws["graph"], draws["eager"], atol=1e-5)


def test_graph_mode_variable_batch_traces_once():
    link = UplinkLink(PhyConfig(channel="tdl-c", csi="ls"))
    traces = []

    @tf.function(reduce_retracing=True, input_signature=[
        tf.TensorSpec([None, 300], tf.complex64), tf.TensorSpec([None], tf.float32)])
    def run(x, snr):
        traces.append(1)
        return link(x, snr)

    for b in (1, 4, 7):
        y, no = run(tf.ones([b, 300], tf.complex64), tf.fill([b], 10.0))
        assert y.shape == (b, 300) and no.shape == (b, 300)
    assert len(traces) == 1


def test_unknown_channel_lists_valid_names():
    with pytest.raises(ValueError) as e:
        PhyConfig(channel="tdl-z")
    for name in CHANNELS:
        assert name in str(e.value)


@pytest.mark.parametrize("snr", [float("nan"), float("inf"), [1.0, float("nan")]])
def test_non_finite_snr_rejected(snr):
    link = UplinkLink(PhyConfig())
    with pytest.raises(ValueError, match="snr_db must be finite"):
        link(tf.ones([2, 10], tf.complex64), snr)


def test_wrong_dtype_and_rank_rejected():
    link = UplinkLink(PhyConfig())
    with pytest.raises(TypeError, match="complex64"):
        link(tf.ones([2, 10], tf.float32), 10.0)
    with pytest.raises(TypeError, match="complex64"):
        link(tf.ones([2, 10], tf.complex128), 10.0)
    with pytest.raises(ValueError, match="rank 2"):
        link(tf.ones([2, 10, 3], tf.complex64), 10.0)
    with pytest.raises(ValueError, match="scalar or shape"):
        link(tf.ones([2, 10], tf.complex64), np.zeros([2, 2]))
    with pytest.raises(TypeError, match="PhyConfig"):
        UplinkLink({"channel": "awgn"})


@pytest.mark.parametrize("field, value", [
    ("distance_m", -5.0), ("distance_m", 0.0), ("speed_mps", -1.0), ("num_rx_ant", 0),
    ("csi", "mmse"), ("snr_db_min", 30.0), ("ls_freq_window", 2),
    ("pilot_ofdm_symbol_indices", (2, 14)), ("num_subcarriers", 200),
])
def test_bad_config_values_rejected(field, value):
    with pytest.raises(ValueError, match=f"phy.{field}"):
        PhyConfig(**{field: value})
