"""The HIL link through the Pluto twin (real pyadi-iio + libiio path), the Pluto's range
checks, unreachable radios and a connection dropped mid-run."""

from __future__ import annotations

import gc
import socket

import numpy as np
import pytest

from psfl.hil.link import HilLink
from psfl.hil.radios import PlutoRadio, RadioError, TwinRadio, check_pluto_settings, exp_taps
from psfl.hil.waveform import FrameFormat
from psfl.phy import PhyConfig

K = 512


@pytest.fixture(scope="module")
def fmt() -> FrameFormat:
    return FrameFormat(PhyConfig(csi="ls"), K)


def _twin(fmt: FrameFormat, **kw) -> TwinRadio:
    base = dict(snr_db=25.0, cfo_hz=0.0, seed=3, lo_hz=2.44e9,
                sample_rate_hz=fmt.sample_rate_hz)
    base.update(kw)
    return TwinRadio(**base)


@pytest.fixture(scope="module")
def twin_run(fmt: FrameFormat):
    """48 images' worth of symbols from an untrained CSC codec through the twin, CFO
    ±5 spacings and random timing, half of them with multipath."""
    from psfl.semantic.models import build_codec

    rng = np.random.default_rng(0)
    # smooth random images: the codec's output is then not trivially constant
    base = rng.random((48, 4, 4, 3)).astype(np.float32)
    images = np.repeat(np.repeat(base, 8, axis=1), 8, axis=2)
    codec = build_codec("csc", 32, k=K)
    z = codec.encode(images, 25.0).numpy()
    out = []
    for i, cfo in enumerate((-5.0, 5.0)):
        taps = exp_taps(300e-9, fmt.sample_rate_hz, seed=i) if i else None
        radio = _twin(fmt, cfo_hz=cfo * fmt.scs_hz, taps=taps, seed=10 + i)
        try:
            res = HilLink(radio, fmt).run(z[i * 24:(i + 1) * 24], first_index=i * 24)
        finally:
            radio.close()
        out.append((cfo, res))
    return codec, images, z, out


def test_twin_detection_cfo_evm(twin_run) -> None:
    _, _, _, runs = twin_run
    det = np.concatenate([r.detected for _, r in runs])
    assert det.mean() >= 0.99
    for cfo, res in runs:
        for f in res.frames:
            if f["detected"]:
                assert abs(f["cfo_sc"] - cfo) < 0.01, f
                assert f["evm_db"] <= -20.0, f


def test_twin_matches_simulated_awgn_link(twin_run, fmt: FrameFormat) -> None:
    """Channel vs channel: the same decoder on the twin's symbols and on UplinkLink's (AWGN,
    LS estimation, same numerology) at the SNR the receiver measured."""
    import tensorflow as tf

    from psfl.phy import UplinkLink
    from psfl.semantic.metrics import psnr

    codec, images, z, runs = twin_run
    res = runs[0][1]  # the run without multipath: the simulated link is AWGN
    imgs, zz = images[:24], z[:24]
    snr = float(10 * np.log10(np.mean([10 ** (f["snr_db"] / 10) for f in res.frames])))
    tf.random.set_seed(1)
    y_sim, no_sim = UplinkLink(PhyConfig(csi="ls"))(tf.constant(zz), snr)
    # symbol error power relative to the symbols: twin vs simulation
    e_twin = np.mean(np.abs(res.y - zz) ** 2)
    e_sim = float(np.mean(np.abs(y_sim.numpy() - zz) ** 2))
    assert abs(10 * np.log10(e_twin / e_sim)) < 1.0, (e_twin, e_sim)
    # the decoder's noise-variance side information agrees as well
    assert abs(10 * np.log10(np.mean(res.no_eff) / float(np.mean(no_sim)))) < 1.0
    p_twin = float(np.mean(psnr(imgs, codec.decode(res.y, res.no_eff))))
    p_sim = float(np.mean(psnr(imgs, codec.decode(y_sim, no_sim))))
    assert abs(p_twin - p_sim) < 1.0, (p_twin, p_sim)


def test_out_of_range_settings_name_the_range() -> None:
    ok = dict(lo_hz=2.44e9, sample_rate_hz=3.84e6, rf_bandwidth_hz=3.84e6,
              tx_attenuation_db=10.0, rx_gain_db=40.0)
    with pytest.raises(RadioError, match=r"LO range 325 MHz-3\.8 GHz"):
        check_pluto_settings(**{**ok, "lo_hz": 5.8e9})
    check_pluto_settings(**{**ok, "lo_hz": 5.8e9}, ad9364=True)
    with pytest.raises(RadioError, match=r"LO range 70 MHz-6 GHz"):
        check_pluto_settings(**{**ok, "lo_hz": 6.1e9}, ad9364=True)
    with pytest.raises(RadioError, match=r"sample rate 100 kHz .*520\.833 kHz-61\.44 MHz"):
        check_pluto_settings(**{**ok, "sample_rate_hz": 1e5})
    # the gain table of the RX LO's band, as the driver (and the twin) have it
    with pytest.raises(RadioError, match=r"rx_gain_db 72 dB .*-3\.\.71 dB at hil\.lo_hz 2\.44 GHz"):
        check_pluto_settings(**{**ok, "rx_gain_db": 72.0})
    check_pluto_settings(**{**ok, "rx_gain_db": -3.0})
    check_pluto_settings(**{**ok, "lo_hz": 800e6, "rx_gain_db": 73.0})
    with pytest.raises(RadioError, match=r"tx_attenuation_db 95 dB .*0-89\.75 dB"):
        check_pluto_settings(**{**ok, "tx_attenuation_db": 95.0})
    # checked before any hardware is touched: the URI below is never contacted
    with pytest.raises(RadioError, match="LO range"):
        PlutoRadio("ip:127.0.0.1:9", lo_hz=100e6, sample_rate_hz=3.84e6)


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_no_radio_at_uri_is_one_clear_error() -> None:
    uri = f"ip:127.0.0.1:{_free_port()}"
    with pytest.raises(RadioError) as ei:
        PlutoRadio(uri, lo_hz=2.44e9, sample_rate_hz=3.84e6)
    msg = str(ei.value)
    assert uri in msg and "iio_info -s" in msg and "ip:192.168.2.1" in msg and "usb:" in msg
    assert "\n" not in msg


def test_dropped_connection_keeps_decoded_frames(fmt: FrameFormat) -> None:
    """The twin drops every connection after a few reads; the run stops with a RadioError
    and the frames of the batches already received are in its result."""
    rng = np.random.default_rng(2)
    z = ((rng.standard_normal((24, K)) + 1j * rng.standard_normal((24, K))) / np.sqrt(2))
    # per batch of 8 frames: one flush read + one capture read → drop during batch 2
    radio = _twin(fmt, twin_kwargs={"drop_after_reads": 5})
    try:
        with pytest.raises(RadioError, match="lost") as ei:
            HilLink(radio, fmt, frames_per_buffer=8).run(z)
    finally:
        radio.close()
    res = ei.value.result
    assert 8 <= res.detected.sum() < 24
    assert res.detected[:8].all()
    np.testing.assert_allclose(res.y[:8], z[:8], atol=0.4)
    del ei
    gc.collect()
