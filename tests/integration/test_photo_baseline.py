"""The whole-photo digital baseline (psfl.phy.digital.photo) and its PHY abstraction
(psfl.phy.digital.abstraction) on small photos through psfl's link."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf
from skimage import data as skdata

from psfl.phy import PhyConfig, UplinkLink
from psfl.phy.digital import PhotoBaseline, segment, symbols_for
from psfl.phy.digital.mcs import mcs_table

H, W = 64, 96
K = symbols_for(H, W, 1 / 6)  # 3072 symbols: 3 full slots of 864 + 480


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return skdata.astronaut()[100 : 100 + H, 150 : 150 + W].astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def link() -> UplinkLink:
    return UplinkLink(PhyConfig(channel="awgn", csi="perfect"))


@pytest.fixture(scope="module")
def ldpc(link: UplinkLink) -> PhotoBaseline:
    return PhotoBaseline(link.num_data_per_slot)


@pytest.fixture(scope="module")
def abstraction(link: UplinkLink) -> PhotoBaseline:
    return PhotoBaseline(link.num_data_per_slot, decoder="abstraction", seed=3)


def awgn(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    no = tf.reshape(tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0), [-1, 1])
    no = tf.broadcast_to(no, tf.shape(x))
    s = tf.sqrt(no / 2)
    return x + tf.complex(tf.random.normal(tf.shape(x)) * s, tf.random.normal(tf.shape(x)) * s), no


def test_symbols_for() -> None:
    assert K == 3072
    with pytest.raises(ValueError, match="whole number"):
        symbols_for(7, 7, 1 / 6)


def test_high_snr_round_trip_equals_source_only(photo, link, ldpc) -> None:
    tf.random.set_seed(1)
    out, info = ldpc.transmit(photo, link, 35.0, K)
    assert info["success"].all() and info["crc_ok"].all() and not info["undetected_error"].any()
    assert info["decoder"] == "ldpc" and info["mcs"][0] == 27
    seg = segment(K, link.num_data_per_slot, {m.index: m for m in mcs_table()}[27])
    assert info["num_tbs"][0] == seg.num_tbs == 4 and info["num_cbs"][0] == seg.num_cbs
    assert info["payload_bits"][0] == seg.payload_bits
    assert info["source_bits"][0] <= info["payload_bits"][0]
    assert info["tb_ok"].shape == (1, 4) and info["tb_ok"].all()
    ref, ref_info = ldpc.source_roundtrip(photo, K, info["mcs"])
    np.testing.assert_array_equal(out, ref)
    assert info["psnr"][0] == pytest.approx(ref_info["psnr"][0], abs=1e-4)
    assert info["psnr"][0] > 30.0


def test_very_low_snr_loses_the_photo(photo, link, ldpc) -> None:
    out, info = ldpc.transmit(photo, link, -10.0, K)
    assert not info["success"].any() and info["mcs"][0] == 2
    assert not info["tb_ok"].any()
    np.testing.assert_array_equal(out, np.full_like(out, 0.5))


def test_abstraction_agrees_with_full_chain(photo, link, ldpc, abstraction) -> None:
    for snr in (35.0, -10.0):
        _, a = abstraction.transmit(photo, link, snr, K)
        _, b = ldpc.transmit(photo, link, snr, K)
        assert a["success"][0] == b["success"][0] == (snr > 0)
        assert a["decoder"] == "abstraction"
        assert np.all(np.isfinite(a["tb_bler"])) and np.all(np.isnan(b["tb_bler"]))
    # on success the receiver's photo is the source-decoded codestream
    out, info = abstraction.transmit(photo, link, 35.0, K)
    ref, _ = abstraction.source_roundtrip(photo, K, info["mcs"])
    np.testing.assert_array_equal(out, ref)


def test_abstraction_is_faster(photo, link, ldpc, abstraction) -> None:
    photos = np.stack([photo] * 4)
    times = {}
    for name, pb in (("ldpc", ldpc), ("abstraction", abstraction)):
        pb.transmit(photos, link, 20.0, K)  # warm: tracing, tables
        t = time.perf_counter()
        for _ in range(2):
            pb.transmit(photos, link, 20.0, K)
        times[name] = time.perf_counter() - t
    assert times["abstraction"] < times["ldpc"], times


def test_base_graph_edge_is_coded_per_38212() -> None:
    # 300 data REs per slot, MCS 15: 38.212 gives BG2 (TBS 1192 <= 3824, R = 0.65 <= 0.67),
    # Sionna's encoder would take BG1 (its code block rate 1208/1800 = 0.671); the baseline
    # rebuilds it with BG2 and still round-trips.
    tf.random.set_seed(2)
    pb = PhotoBaseline(300, mcs=15)
    img = skdata.coffee()[:16, :16].astype(np.float32) / 255.0
    _, info = pb.transmit(img, awgn, 40.0, 600)
    assert info["success"].all() and info["num_tbs"][0] == 2


def test_bad_input_names_the_fix(photo, link) -> None:
    nd = link.num_data_per_slot
    with pytest.raises(ValueError, match="too small to code"):
        PhotoBaseline(nd).transmit(photo[:4, :4], link, 10.0, 100)
    with pytest.raises(ValueError, match="increase k"):
        PhotoBaseline(nd).transmit(photo, link, 10.0, 4)
    with pytest.raises(ValueError, match="decoder='bp' is unknown"):
        PhotoBaseline(nd, decoder="bp")
    with pytest.raises(ValueError, match="num_data_per_slot"):
        PhotoBaseline(0)


@pytest.mark.parametrize("mode", ["eager", "xla"])
def test_modes_round_trip(mode: str) -> None:
    tf.random.set_seed(3)
    img = skdata.coffee()[:16, :32].astype(np.float32) / 255.0
    out, info = PhotoBaseline(300, mcs=10, mode=mode).transmit(img, awgn, 30.0, 800)
    assert info["success"].all() and info["num_tbs"][0] == 3 and out.shape == (1, 16, 32, 3)


def test_mcs_by_snr_also_needs_the_photo_predicted_delivered():
    """At 10 dB on AWGN the thresholds alone pick an MCS at 10 % BLER per block, which loses a
    photo of dozens of TBs almost surely; with delivery_target the highest MCS left is the one
    whose whole photo the abstraction predicts delivered at least that often."""
    from psfl.phy.digital import PhotoBaseline

    k, snr = 196_608, 10.0  # a 768x512 photo at k/n = 1/6
    plain = PhotoBaseline(864, delivery_target=0.0)
    aware = PhotoBaseline(864, delivery_target=0.9)
    m0, m1 = int(plain.select_mcs(k, snr)), int(aware.select_mcs(k, snr))
    assert m1 < m0 and aware.predicted_delivery(k, m1, snr) >= 0.9
    assert aware.predicted_delivery(k, m0, snr) < 0.9
    higher = [i for i in aware.usable_mcs(k) if m1 < i <= m0]
    assert all(aware.predicted_delivery(k, i, snr) < 0.9 for i in higher)
    with pytest.raises(ValueError, match=r"delivery_target=1.0 must be in \[0, 1\)"):
        PhotoBaseline(864, delivery_target=1.0)


@pytest.mark.parametrize("csi", ["perfect", "ls"])
def test_stand_in_symbols_leave_the_abstraction_s_inputs_unchanged(csi) -> None:
    """The abstraction sends random QAM points instead of LDPC codewords: the per-RE noise
    variance it decides from is the same (same channel and noise draws) for both, on TDL-C."""
    from sionna.phy import config as sn_config

    from psfl.phy.digital._shared import stand_in_symbols

    tdl = UplinkLink(PhyConfig(channel="tdl-c", csi=csi))
    base = PhotoBaseline(tdl.num_data_per_slot, decoder="abstraction", seed=0)
    seg = base.segmentation(K, 14)
    bits = np.random.default_rng(0).integers(0, 2, (2, seg.payload_bits))
    coded = base.encode_payload(seg, 14, bits)
    used = np.flatnonzero(coded[0] != 0)
    stand_in = stand_in_symbols(np.random.default_rng(1), 2, seg.k, used, seg.mcs)
    assert np.mean(np.abs(stand_in[:, used]) ** 2) == pytest.approx(1.0, abs=0.05)
    assert np.array_equal(stand_in != 0, coded != 0)
    no = []
    for sym in (coded, stand_in):
        sn_config.seed = 7
        no.append(tdl(tf.constant(sym), tf.constant([5.0, 5.0]))[1].numpy())
    np.testing.assert_allclose(no[0], no[1], rtol=1e-5)
