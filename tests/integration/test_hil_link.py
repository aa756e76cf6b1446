"""HIL transmitter, synchronization and receiver on the emulated front end (numpy only).

The physics is checked against expectations: the preamble's structure, the SNR per RE the
receiver must measure for a known time-domain SNR, 200 frames with CFO up to ±5 subcarrier
spacings, random timing, phase noise, IQ imbalance, DC offset and multipath.
"""

from __future__ import annotations

import numpy as np
import pytest

from psfl.hil.link import UNDETECTED_NO, HilLink
from psfl.hil.radios import EmulatedRadio, exp_taps
from psfl.hil.receiver import Receiver
from psfl.hil.snr import snr_plan, waveform_offset
from psfl.hil.sync import schmidl_cox
from psfl.hil.waveform import DAC_SCALE, FrameFormat, crc8, header_bits
from psfl.phy import PhyConfig

K = 512  # one slot of the default numerology (864 data REs)


@pytest.fixture(scope="module")
def fmt() -> FrameFormat:
    return FrameFormat(PhyConfig(), K)


def _symbols(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((n, K)) + 1j * rng.standard_normal((n, K))) / np.sqrt(2)
            ).astype(np.complex64)


def _radio(fmt: FrameFormat, **kw) -> EmulatedRadio:
    base = dict(snr_db=25.0, phase_noise_hz=2.0, iq_amplitude_db=0.2, iq_phase_deg=1.0,
                dc_offset=0.01, seed=1)
    base.update(kw)
    return EmulatedRadio(fmt.sample_rate_hz, **base)


def test_header_and_crc() -> None:
    for idx in (0, 1, 513, 65535):
        b = header_bits(idx)
        assert b.size == 24 and int("".join(map(str, b[:16])), 2) == idx
        assert np.array_equal(crc8(b[:16]), b[16:])
    # every single-bit error is caught
    b = header_bits(1234)
    for i in range(24):
        e = b.copy()
        e[i] ^= 1
        assert not np.array_equal(crc8(e[:16]), e[16:])
    with pytest.raises(ValueError):
        header_bits(1 << 16)


def test_waveform_structure(fmt: FrameFormat) -> None:
    n, c = fmt.n_fft, fmt.n_cp
    assert fmt.sample_rate_hz == 128 * 30e3 and fmt.scs_hz == 30e3
    assert 0 not in set(fmt.bins.tolist())  # DC bin left empty
    x = fmt.modulate(_symbols(2))
    assert x.size == 2 * fmt.frame_len
    g = fmt.guard
    assert np.all(x[:g] == 0)
    s1 = x[g + c: g + c + n]
    np.testing.assert_allclose(s1[: n // 2], s1[n // 2:], atol=1e-12)  # repeated halves
    np.testing.assert_allclose(x[g: g + c], s1[-c:], atol=1e-12)  # cyclic prefix
    # unit power per RE → F/N per time sample (S1, S2 and the header are fully loaded)
    for i in range(3):  # Parseval over each body
        body = x[g + i * fmt.sym_len + c: g + (i + 1) * fmt.sym_len]
        assert np.mean(np.abs(body) ** 2) == pytest.approx(fmt.n_sc / n, rel=1e-9)
    # the data REs carry the symbols in SlotGrid's order
    z = _symbols(1, 3)
    grid = fmt.slot_grid(z[0])
    back = grid.reshape(fmt.num_slots, -1)[:, fmt.data_pos].reshape(-1)[:K]
    np.testing.assert_allclose(back, z[0], atol=1e-6)
    # DAC scaling: RMS at 2^14 - backoff, integer rails, no clipping at 10 dB back-off
    s, clip = fmt.to_dac(x, 10.0)
    act = np.abs(x) > 0
    assert np.sqrt(np.mean(np.abs(s[act]) ** 2)) == pytest.approx(DAC_SCALE / 10**0.5, rel=1e-3)
    assert np.all(s.real == np.round(s.real)) and clip == 0.0
    _, clip0 = fmt.to_dac(x, 0.0)
    assert clip0 > 0.0  # 0 dB back-off drives OFDM peaks into the rails


def test_schmidl_cox_plateau_and_cfo(fmt: FrameFormat) -> None:
    x = fmt.modulate(_symbols(1))
    eps = 0.37
    r = x * np.exp(2j * np.pi * eps * np.arange(x.size) / fmt.n_fft)
    p, m = schmidl_cox(r, fmt.n_fft // 2)
    assert m.max() == pytest.approx(1.0, abs=1e-9)
    plateau = np.flatnonzero(m > 0.999)
    # from the start of S1's CP to the start of its body
    assert plateau[0] == fmt.guard and plateau[-1] == fmt.guard + fmt.n_cp
    assert np.angle(p[plateau[0]]) / np.pi == pytest.approx(eps, abs=1e-9)
    # no plateau on the fully loaded data symbols (slot symbols 0-7 hold the 512 symbols)
    assert np.all(m[fmt.guard + 3 * fmt.sym_len: fmt.guard + 10 * fmt.sym_len] < 0.3)


def test_noise_only_gives_no_frames(fmt: FrameFormat) -> None:
    radio = _radio(fmt, rx_buffer_size=8 * fmt.frame_len)
    radio._ref_power = (fmt.n_sc / fmt.n_fft) * 10 ** (-16 / 10)
    frames = Receiver(fmt)(radio.rx())
    assert not [f for f in frames if f.header_ok]


def test_measured_snr_matches_physics(fmt: FrameFormat) -> None:
    """The radio's SNR is relative to the mean power P of the whole cyclic buffer (guard,
    preamble and empty REs included); with unit-power REs and a unitary DFT the noise per RE
    is P / SNR, so the receiver must measure 25 dB - 10 log10(P) per RE."""
    radio = _radio(fmt, phase_noise_hz=0.0, iq_amplitude_db=0.0, iq_phase_deg=0.0)
    z = _symbols(16)
    res = HilLink(radio, fmt, frames_per_buffer=16).run(z)
    expect = 25 - 10 * np.log10(np.mean(np.abs(fmt.modulate(z)) ** 2))
    snr = np.array([f["snr_db"] for f in res.frames])
    assert res.detected.all()
    assert abs(10 * np.log10(np.mean(10 ** (snr / 10))) - expect) < 0.4
    # psfl.hil.snr's closed form of the same offset (2.50 + 0.23 + 1.47 dB for k = 512)
    assert waveform_offset(fmt)["total"] == pytest.approx(expect - 25, abs=0.05)
    # EVM of the data is the inverse SNR (plus a small channel-estimation loss)
    evm = np.array([f["evm_db"] for f in res.frames])
    assert -expect - 0.2 < np.mean(evm) < -expect + 1.5


def _unit_power(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Symbols of unit mean power per frame, as a codec's encoder emits them."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k)) + 1j * rng.standard_normal((n, k))
    return (z / np.sqrt(np.mean(np.abs(z) ** 2, axis=1, keepdims=True))).astype(np.complex64)


@pytest.mark.parametrize(("k", "guard"), [(300, None), (864, 0), (1000, 500)])
def test_snr_offset_is_the_waveform_power(k: int, guard: int | None) -> None:
    """The per-RE minus waveform-relative SNR of psfl.hil.snr, term by term, is
    -10 log10 of the mean power of the frames actually modulated (unit-power REs)."""
    fmt = FrameFormat(PhyConfig(), k, guard=guard)
    t = waveform_offset(fmt)
    p = float(np.mean(np.abs(fmt.modulate(_unit_power(8, k))) ** 2))
    assert t["total"] == pytest.approx(-10 * np.log10(p), abs=0.05)
    assert t["occupied_subcarriers"] == pytest.approx(10 * np.log10(128 / 72))
    g = fmt.guard
    assert t["guard"] == pytest.approx(10 * np.log10(fmt.frame_len / (fmt.frame_len - g)))
    res = (3 + fmt.num_slots * 14) * 72
    empty = fmt.num_slots * 864 - k
    assert t["empty_data_res"] == pytest.approx(10 * np.log10(res / (res - empty)))
    assert abs(t["preamble_and_pilots"]) < 1e-3
    assert t["total"] == pytest.approx(sum(v for n, v in t.items() if n != "total"))


def test_per_re_snr_is_measured_as_set() -> None:
    """hil.snr_reference = "re": noise placed by snr_plan below the waveform makes the
    receiver measure the set SNR per RE, here for k = 300 (5.4 dB between the references)."""
    fmt = FrameFormat(PhyConfig(), 300)
    plan = snr_plan(fmt, 20.0, "re")
    assert plan.radio_db == pytest.approx(20.0 - 5.41, abs=0.01)
    assert plan.expected_re_db == pytest.approx(20.0)
    radio = EmulatedRadio(fmt.sample_rate_hz, snr_db=plan.radio_db, seed=4)
    res = HilLink(radio, fmt).run(_unit_power(8, 300, 1))
    snr = np.array([f["snr_db"] for f in res.frames])
    assert res.detected.all()
    assert abs(10 * np.log10(np.mean(10 ** (snr / 10))) - 20.0) < 0.5, snr
    wave = snr_plan(fmt, 20.0, "waveform")
    assert wave.radio_db == 20.0 and wave.expected_re_db == pytest.approx(25.41, abs=0.01)
    with pytest.raises(ValueError, match="choose one of re, waveform"):
        snr_plan(fmt, 20.0, "dbfs")


def test_200_frames_cfo_timing_impairments(fmt: FrameFormat) -> None:
    """≥ 99 % of 200 frames at 25 dB with CFO in ±5 spacings, random timing, phase noise,
    IQ imbalance, DC offset and static multipath; residual CFO < 1 % of the spacing; EVM
    ≤ −20 dB on every detected frame."""
    rng = np.random.default_rng(11)
    cfos = [-5.0, 5.0, *rng.uniform(-5, 5, 3)]
    z = _symbols(200, 5)
    detected, err, evm = [], [], []
    for i, cfo in enumerate(cfos):
        taps = exp_taps(300e-9, fmt.sample_rate_hz, seed=i) if i % 2 else None
        radio = _radio(fmt, cfo_hz=cfo * fmt.scs_hz, taps=taps, seed=100 + i)
        rows = z[i * 40:(i + 1) * 40]
        res = HilLink(radio, fmt, max_captures=1).run(rows, first_index=i * 40)
        detected.append(res.detected)
        got = [f for f in res.frames if f["detected"]]
        err += [f["cfo_sc"] - cfo for f in got]
        evm += [f["evm_db"] for f in got]
        # undetected frames reach the decoder as erasures
        assert np.all(res.no_eff[~res.detected] == UNDETECTED_NO)
        np.testing.assert_allclose(res.y[res.detected][:, :4], rows[res.detected][:, :4],
                                   atol=0.35)
    rate = np.concatenate(detected).mean()
    assert rate >= 0.99, rate
    assert np.max(np.abs(err)) < 0.01, np.max(np.abs(err))
    assert np.max(evm) <= -20.0, np.max(evm)


def test_cfo_beyond_search_range_is_not_misdetected(fmt: FrameFormat) -> None:
    """A CFO the receiver was told not to search must not produce wrong frames."""
    radio = _radio(fmt, cfo_hz=9.0 * fmt.scs_hz)
    res = HilLink(radio, fmt, max_captures=1,
                  receiver_kwargs={"max_cfo_subcarriers": 2.0}).run(_symbols(4))
    assert not res.detected.any()
    radio = _radio(fmt, cfo_hz=9.0 * fmt.scs_hz)
    res = HilLink(radio, fmt, receiver_kwargs={"max_cfo_subcarriers": 10.0}).run(_symbols(4))
    assert res.detected.all()
    assert max(abs(f["cfo_sc"] - 9.0) for f in res.frames) < 0.01
