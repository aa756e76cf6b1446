"""Tests of the digital baseline (JPEG/WebP/JPEG 2000/AVIF + CRC + 5G LDPC + QAM) in
psfl.phy.digital."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sionna.phy import config as sn_config
from skimage import data as skdata

from psfl.phy.digital import (
    MCS,
    DigitalBaseline,
    TransportChain,
    block_error_rate,
    calibrate_mcs_thresholds,
    mcs_table,
    transport_format,
)

K = 512  # 32x32x3 image at bandwidth ratio 1/6


def awgn_link(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Unit-power AWGN: y = x + n, n ~ CN(0, 10^(-snr/10)); returns the noise variance."""
    no = tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0)
    no = tf.broadcast_to(tf.reshape(no, [-1, 1]), tf.shape(x))
    std = tf.sqrt(no / 2.0)
    noise = tf.complex(tf.random.normal(tf.shape(x)) * std, tf.random.normal(tf.shape(x)) * std)
    return x + noise, no


class RecordingLink:
    """AWGN link that keeps what was sent, to check the symbol budget and power."""

    def __init__(self) -> None:
        self.sent: list[np.ndarray] = []

    def __call__(self, x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        self.sent.append(x.numpy())
        return awgn_link(x, snr_db)


def patches(n: int, size: int = 32) -> np.ndarray:
    """Natural-image patches in [0, 1] from photos shipped with scikit-image."""
    photos = [skdata.astronaut(), skdata.coffee(), skdata.chelsea(), skdata.rocket()]
    out = []
    for i in range(n):
        img = photos[i % len(photos)]
        r, c = 40 + (37 * (i // len(photos))) % 300, 20 + (23 * i) % 300
        out.append(img[r : r + size, c : c + size, :3])
    return np.stack(out).astype(np.float32) / 255.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(1.0 / float(np.mean((a.astype(np.float64) - b) ** 2)))


def pil_roundtrip(img: np.ndarray, fmt: str, quality: int) -> np.ndarray:
    """Plain PIL encode/decode of one float image, independent of the module under test."""
    u8 = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    kw = {"subsampling": 2} if fmt == "JPEG" else {}
    Image.fromarray(u8).save(buf, fmt, quality=quality, **kw)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")) / 255.0


def jpeg_scan_bytes(img: np.ndarray, quality: int) -> int:
    """Length of the entropy-coded scan of a baseline JPEG (after SOS, before EOI)."""
    u8 = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, "JPEG", quality=quality, subsampling=2)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    return len(data) - (sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")) - 2


@pytest.fixture(scope="module")
def jpeg_baseline() -> DigitalBaseline:
    return DigitalBaseline(K, codec="jpeg")


# ---------------------------------------------------------------------------------------------
# Transparent channel
# ---------------------------------------------------------------------------------------------


def test_high_snr_is_transparent_and_equals_jpeg_only(jpeg_baseline: DigitalBaseline) -> None:
    tf.random.set_seed(1)
    x = patches(4)
    out, info = jpeg_baseline.transmit(x, awgn_link, 40.0)
    assert info["mcs"].tolist() == [27] * 4  # highest MCS at 40 dB
    assert info["crc_ok"].all() and info["success"].all()
    assert not info["undetected_error"].any() and not info["decode_error"].any()
    assert (info["num_symbols"] == K).all()
    assert (info["source_bits"] <= info["payload_bits"]).all()
    for i in range(4):
        assert info["scale"][i] == 1
        ref = pil_roundtrip(x[i], "JPEG", int(info["quality"][i]))
        np.testing.assert_array_equal(out[i], ref.astype(np.float32))
        assert info["psnr"][i] == pytest.approx(psnr(ref, x[i]), abs=1e-3)
    # the quality is the highest that fits: one step up overflows the header-stripped payload
    for i in range(4):
        q = int(info["quality"][i])
        assert q == 100 or 1 + jpeg_scan_bytes(x[i], q + 1) > info["payload_bits"][i] // 8
    assert info["psnr"].min() > 30.0


def test_webp_high_snr_equals_webp_only() -> None:
    tf.random.set_seed(2)
    db = DigitalBaseline(K, mcs=20, codec="webp")
    x = patches(2)
    out, info = db.transmit(x, awgn_link, 35.0)
    assert info["success"].all() and (info["mcs"] == 20).all()
    for i in range(2):
        assert info["scale"][i] == 1
        ref = pil_roundtrip(x[i], "WEBP", int(info["quality"][i]))
        np.testing.assert_array_equal(out[i], ref.astype(np.float32))


@pytest.mark.parametrize("codec,fmt,kw", [
    ("jpeg2000", "JPEG2000", {"no_jp2": True, "irreversible": True, "quality_mode": "rates",
                              "num_resolutions": 3}),
    ("avif", "AVIF", {"speed": 6, "subsampling": "4:2:0"}),
])
def test_new_coders_over_the_link_equal_pillow_alone(codec: str, fmt: str, kw: dict) -> None:
    """At a transparent SNR, the image shown is what Pillow alone makes of the image at the
    chosen quality (JPEG 2000: target size), and the stream fits the payload."""
    tf.random.set_seed(3)
    db = DigitalBaseline(K, mcs=14, codec=codec, downscale=False)
    x = patches(2)
    out, info = db.transmit(x, awgn_link, 35.0)
    assert info["success"].all() and (info["source_bits"] <= info["payload_bits"]).all()
    for i in range(2):
        q = int(info["quality"][i])
        assert info["scale"][i] == 1
        u8 = np.clip(np.rint(x[i] * 255), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        extra = {"quality_layers": [3 * 32 * 32 / q]} if codec == "jpeg2000" else {"quality": q}
        Image.fromarray(u8).save(buf, fmt, **kw, **extra)
        ref = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")) / 255.0
        np.testing.assert_array_equal(out[i], ref.astype(np.float32))


# ---------------------------------------------------------------------------------------------
# Lost images
# ---------------------------------------------------------------------------------------------


def test_very_low_snr_loses_images_and_uses_fallback(jpeg_baseline: DigitalBaseline) -> None:
    tf.random.set_seed(3)
    x = patches(4)
    out, info = jpeg_baseline.transmit(x, awgn_link, -10.0)
    assert info["mcs"].tolist() == [2] * 4  # below every threshold: lowest MCS
    assert not info["crc_ok"].any() and not info["success"].any()
    assert not info["undetected_error"].any()
    np.testing.assert_array_equal(out, np.full_like(x, 0.5))
    for i in range(4):
        assert info["psnr"][i] == pytest.approx(psnr(np.full_like(x[i], 0.5), x[i]), abs=1e-3)


def test_fallback_colour_is_used() -> None:
    db = DigitalBaseline(K, mcs=4, fallback=(0.2, 0.4, 0.6))
    out, info = db.transmit(patches(2), awgn_link, -8.0)
    assert not info["success"].any()
    np.testing.assert_allclose(out[..., 0], 0.2)
    np.testing.assert_allclose(out[..., 2], 0.6)


def test_near_threshold_no_garbage_passes_as_success() -> None:
    """Around the waterfall some blocks fail; every success is bit-exact and equals the
    error-free source-only result."""
    tf.random.set_seed(4)
    db = DigitalBaseline(K, mcs=4)
    x = patches(24)
    th = mcs_table()[2].threshold_db  # MCS 4
    out, info = db.transmit(x, awgn_link, np.linspace(th - 1.0, th + 1.0, 24))
    ref, _ = db.source_roundtrip(x, 4)
    assert 0 < info["success"].sum() < 24  # the test exercises both outcomes
    assert not info["undetected_error"].any()
    np.testing.assert_array_equal(out[info["success"]], ref[info["success"]])
    np.testing.assert_array_equal(out[~info["success"]], 0.5)


def test_image_that_does_not_fit_is_counted() -> None:
    # k=40 at MCS 2: floor(80*0.3)=24 bits, exactly the CRC -> no payload at all
    with pytest.raises(ValueError, match="too small"):
        DigitalBaseline(40, mcs=2)
    # a noise image at 3 bytes of WebP payload cannot fit even downscaled
    db = DigitalBaseline(80, mcs=3, codec="webp")
    assert db.transport_format(3).payload_bytes < 20
    noise = np.random.default_rng(0).random((1, 32, 32, 3)).astype(np.float32)
    out, info = db.transmit(noise, awgn_link, 30.0)
    assert info["crc_ok"].all() and not info["source_fit"].any() and not info["success"].any()
    np.testing.assert_array_equal(out, 0.5)


def test_small_budget_downscales_honestly() -> None:
    db = DigitalBaseline(192, mcs=2)  # 11-byte payload: full resolution does not fit
    assert db.transport_format(2).payload_bytes == 11
    x = patches(2)
    out, info = db.source_roundtrip(x, 2)
    assert info["source_fit"].all() and (info["scale"] == 2).all()
    assert out.shape == x.shape and (info["source_bits"] <= 8 * 11).all()
    assert (info["psnr"] > psnr(np.full_like(x, 0.5), x)).all()  # better than the fallback
    db_nodown = DigitalBaseline(192, mcs=2, downscale=False)
    _, info2 = db_nodown.source_roundtrip(x, 2)
    assert not info2["source_fit"].any()


# ---------------------------------------------------------------------------------------------
# Coded BLER
# ---------------------------------------------------------------------------------------------


def test_bler_waterfall_of_rate_half_qpsk() -> None:
    """QPSK, rate 1/2, k=512 (1024 coded bits) on AWGN: BLER must be ~1 below the Shannon limit
    10 log10(2^(R m) - 1) = 0 dB and ~0 by 3 dB, with the 10 % point in between."""
    fmt = transport_format(K, MCS(index=0, bits_per_symbol=2, code_rate=0.5, threshold_db=0.0))
    assert fmt.cb_info_bits == 512 and fmt.cb_coded_bits == 1024
    chain = TransportChain(fmt)
    shannon_db = 10 * math.log10(2 ** (0.5 * 2) - 1)
    assert shannon_db == pytest.approx(0.0)
    bler = {s: block_error_rate(chain, s, num_blocks=300) for s in (-0.5, 1.0, 2.0, 3.0)}
    assert bler[-0.5] > 0.95
    assert bler[3.0] < 0.02
    assert bler[-0.5] >= bler[1.0] >= bler[2.0] >= bler[3.0]
    assert bler[1.0] > 0.1 > bler[3.0]  # threshold (10 % BLER) lies between 1 and 3 dB


def test_thresholds_calibrated_over_block_fading_follow_outage_theory() -> None:
    """Over Rayleigh block fading a block fails when |h|^2 snr < g_awgn (steep AWGN waterfall),
    so 10 % BLER needs 1 - exp(-g_awgn / snr) = 0.1: snr = g_awgn / 0.105, i.e. the AWGN
    threshold + 9.8 dB."""
    from psfl.phy import PhyConfig, UplinkLink

    sn_config.seed = 5
    link = UplinkLink(PhyConfig(channel="rayleigh", csi="perfect"))
    awgn = calibrate_mcs_thresholds(K, num_blocks=200, resolution_db=0.25, indices=[4])[4]
    fading = calibrate_mcs_thresholds(K, num_blocks=200, resolution_db=0.25, indices=[4],
                                      link=link, span_db=24.0)[4]
    expected = awgn - 10 * math.log10(-math.log(0.9))
    assert abs(fading - expected) < 1.5, (awgn, fading, expected)


def test_default_thresholds_respect_shannon() -> None:
    for m in mcs_table():
        fmt = transport_format(K, m)
        se = (fmt.tb_bits + fmt.filler_bits) / K  # info bits per channel use
        assert m.threshold_db > 10 * math.log10(2**se - 1), m
    th = [m.threshold_db for m in mcs_table()]
    se = [m.spectral_efficiency for m in mcs_table()]
    assert th == sorted(th) and se == sorted(se)


# ---------------------------------------------------------------------------------------------
# Bit budget
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [100, 512, 777, 4096])
def test_every_mcs_sends_exactly_k_unit_power_symbols(k: int) -> None:
    rng = np.random.default_rng(k)
    for m in mcs_table():
        fmt = transport_format(k, m)
        assert fmt.num_cb * fmt.cb_coded_bits + fmt.pad_bits == k * m.bits_per_symbol
        assert 0 <= fmt.pad_bits < fmt.num_cb * m.bits_per_symbol
        assert fmt.payload_bits + 24 <= math.floor(k * m.bits_per_symbol * m.code_rate)
        assert fmt.cb_info_bits <= 8448
    # encode through the chain for a few formats, including several code blocks
    for idx in (2, 13, 27):
        fmt = transport_format(k, mcs_table()[idx - 2])
        chain = TransportChain(fmt, mode="eager")
        bits = rng.integers(0, 2, (2, fmt.payload_bits)).astype(np.float32)
        x = chain.encode(tf.constant(bits)).numpy()
        assert x.shape == (2, k) and x.dtype == np.complex64
        assert np.mean(np.abs(x) ** 2) == pytest.approx(1.0, abs=0.2 if k < 200 else 0.1)


def test_transmit_sends_k_symbols_and_multi_block_roundtrip() -> None:
    tf.random.set_seed(5)
    link = RecordingLink()
    db = DigitalBaseline(2048, mcs=27, mode="eager")  # 2 LDPC code blocks
    assert db.transport_format(27).num_cb == 2
    x = patches(1, size=48)
    out, info = db.transmit(x, link, 40.0)
    assert link.sent[0].shape == (1, 2048)
    assert info["success"].all() and (info["num_symbols"] == 2048).all()
    assert info["psnr"][0] > 35


def test_per_image_snr_groups_by_mcs(jpeg_baseline: DigitalBaseline) -> None:
    tf.random.set_seed(6)
    link = RecordingLink()
    snr = np.array([40.0, -10.0, 40.0])
    out, info = jpeg_baseline.transmit(patches(3), link, snr)
    assert info["mcs"].tolist() == [27, 2, 27]
    assert info["success"].tolist() == [True, False, True]
    assert sorted(s.shape for s in link.sent) == [(1, K), (2, K)]


def test_modes_agree_eager_graph() -> None:
    """The same received block decodes identically eagerly and as tf.function (the XLA path,
    mode="xla", is exercised by benchmarks/bench_digital.py: its compile takes ~20 s here)."""
    fmt = transport_format(128, mcs_table()[2])
    chains = [TransportChain(fmt, mode=m) for m in ("eager", "graph")]
    rng = np.random.default_rng(7)
    bits = tf.constant(rng.integers(0, 2, (8, fmt.payload_bits)).astype(np.float32))
    tf.random.set_seed(7)
    y, no = awgn_link(chains[0].encode(bits), tf.fill([8], fmt.mcs.threshold_db))
    for ch in chains[1:]:
        np.testing.assert_array_equal(ch.encode(bits).numpy(), chains[0].encode(bits).numpy())
    outs = [ch.decode(y, no) for ch in chains]
    for b, ok in outs[1:]:
        np.testing.assert_array_equal(b.numpy(), outs[0][0].numpy())
        np.testing.assert_array_equal(ok.numpy(), outs[0][1].numpy())


def test_mcs_snr_overrides_selection(jpeg_baseline: DigitalBaseline) -> None:
    tf.random.set_seed(8)
    # the link gets 40 dB but the MCS is chosen for -10 dB: lowest MCS, and it decodes
    _, info = jpeg_baseline.transmit(patches(1), awgn_link, 40.0, mcs_snr_db=-10.0)
    assert info["mcs"].tolist() == [2] and info["success"].all()


def test_select_mcs_rule() -> None:
    db = DigitalBaseline(K)
    table = db.mcs_table()
    snr = np.linspace(-10, 40, 101)
    sel = db.select_mcs(snr)
    assert (np.diff(sel) >= 0).all() and sel[0] == 2 and sel[-1] == 27
    for m in table:
        assert db.select_mcs(m.threshold_db) == m.index
        if m.index > 2:
            assert db.select_mcs(m.threshold_db - 0.01) == m.index - 1
    assert DigitalBaseline(K, margin_db=3.0).select_mcs(table[5].threshold_db + 3.0) == 7
    assert (DigitalBaseline(K, mcs=9).select_mcs(snr) == 9).all()


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.zeros((32, 32, 3), np.float32), r"\[batch, height, width, 3\].*x\[None\]"),
        (np.zeros((1, 32, 32, 1), np.float32), r"\[batch, height, width, 3\]"),
        (np.zeros((1, 32, 32, 3), np.uint8), r"float in \[0, 1\].*astype"),
        (np.full((1, 32, 32, 3), 2.0, np.float32), r"in \[0, 1\].*rescale"),
        (np.full((1, 32, 32, 3), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_images(jpeg_baseline: DigitalBaseline, images: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        jpeg_baseline.transmit(images, awgn_link, 10.0)


@pytest.mark.parametrize("snr", [float("nan"), float("inf"), [1.0, float("-inf")]])
def test_bad_snr(jpeg_baseline: DigitalBaseline, snr: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        jpeg_baseline.transmit(patches(2), awgn_link, snr)
    with pytest.raises(ValueError, match="finite"):
        jpeg_baseline.select_mcs(snr)


def test_bad_construction_and_link() -> None:
    with pytest.raises(ValueError, match="unknown source coder 'png'; choose one of jpeg, webp, jpeg2000, avif"):
        DigitalBaseline(K, codec="png")
    with pytest.raises(ValueError, match=r"k=4 channel uses are too small.*increase k"):
        DigitalBaseline(4)
    with pytest.raises(ValueError, match="positive integer"):
        DigitalBaseline(0)
    with pytest.raises(ValueError, match=r"mcs=40 is unknown.*2\.\.27"):
        DigitalBaseline(K, mcs=40)
    with pytest.raises(ValueError, match="fallback"):
        DigitalBaseline(K, fallback=(0.1, 2.0, 0.3))
    db = DigitalBaseline(K, mcs=2)
    with pytest.raises(ValueError, match="2 entries for 3 images"):
        db.transmit(patches(3), awgn_link, [1.0, 2.0])
    with pytest.raises(ValueError, match="link returned y of shape"):
        db.transmit(patches(1), lambda x, s: (x[:, :-1], tf.ones([1, K - 1])), 10.0)


# ---------------------------------------------------------------------------------------------
# Through the real uplink (OFDM grid, channel, equalizer)
# ---------------------------------------------------------------------------------------------


def test_real_awgn_link(jpeg_baseline: DigitalBaseline) -> None:
    from psfl.phy import PhyConfig, UplinkLink

    tf.random.set_seed(9)
    link = UplinkLink(PhyConfig(channel="awgn", csi="perfect"))
    x = patches(3)
    out, info = jpeg_baseline.transmit(x, link, np.array([40.0, 40.0, -10.0]))
    assert info["success"].tolist() == [True, True, False]
    assert (info["num_symbols"] == K).all()
    ref, _ = jpeg_baseline.source_roundtrip(x[:2], 27)
    np.testing.assert_array_equal(out[:2], ref)


def test_real_rayleigh_link_fades() -> None:
    """Block fading costs reliability at a fixed MCS: at the AWGN threshold + 3 dB, AWGN
    delivers (almost) every image while Rayleigh loses a sizeable fraction; at 45 dB both do."""
    from psfl.phy import PhyConfig, UplinkLink

    tf.random.set_seed(10)
    db = DigitalBaseline(K, mcs=4)
    x = patches(16)
    snr = db.mcs_table()[2].threshold_db + 3.0
    _, awgn = db.transmit(x, UplinkLink(PhyConfig(channel="awgn")), snr)
    rayleigh = UplinkLink(PhyConfig(channel="rayleigh"))
    _, ray = db.transmit(x, rayleigh, snr)
    _, ray_hi = db.transmit(x, rayleigh, 45.0)
    assert awgn["success"].mean() >= 0.9
    assert ray["success"].mean() <= awgn["success"].mean() - 0.1
    assert ray_hi["success"].mean() >= 0.9
    assert not (ray["undetected_error"].any() or ray_hi["undetected_error"].any())


def test_one_chain_per_mcs_traces_once_each_without_a_retracing_warning() -> None:
    """A sweep meets one MCS after another, each with its own compiled chain: each is traced
    once (fixed signature), and TensorFlow must not report that as retracing (it did: every
    chain wrapped the same Block.__call__, whose code object TensorFlow counts traces by)."""
    import logging

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    tf.get_logger().addHandler(handler)
    table = mcs_table()
    try:
        for i in range(0, 21, 3):
            chain = TransportChain(transport_format(K, table[i]), num_iter=2)
            fmt = chain.fmt
            bits = tf.zeros([2, fmt.payload_bits])
            x = chain.encode(bits)
            bits_hat, _ = chain.decode(x, tf.fill(tf.shape(x), 1e-3))
            chain.encode(bits)  # a second call of the same chain: no new trace
            assert bits_hat.shape == bits.shape
            assert chain.encode.experimental_get_tracing_count() == 1
    finally:
        tf.get_logger().removeHandler(handler)
    assert "retracing" not in out.getvalue()
