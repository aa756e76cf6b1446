r"""The analog front end of an emulated Pluto: TX buffer → RF path → ADC codes.

One implementation of the stages a sample crosses between ``tx()`` and ``rx()``, used by
the Pluto twin (:class:`PlutoFrontend`, served by :mod:`psfl.hil.twin.server`) and by
:class:`psfl.hil.radios.EmulatedRadio` (the stage functions and :class:`TxStream`). All
samples are in normalized full-scale units (1.0 = converter full scale), complex128.

Stages:

- DAC: the AD9361 keeps the 12 MSBs of each 16-bit word (:func:`dac_words` for the int16
  words pushed over iiod, :func:`dac_rails` for pyadi-scaled samples).
- :class:`TxStream`: the cyclic TX buffer repeated forever, plus one-shot bursts, on one
  global RX sample clock advanced only by reads. A loaded buffer starts at a given offset,
  so a receiver must synchronize as with hardware.
- :func:`rotate`: a carrier offset :math:`e^{j 2\pi f n / f_s}` on the global clock (plus
  an optional phase walk).
- :func:`awgn`: complex noise at ``snr_db`` below a reference power (the mean power of the
  loaded TX waveform).
- RF gain, with :func:`agc_gain_db` for the AGC modes (the LO band's gain range, 1 dB steps).
- :func:`adc`: 12-bit quantization with saturation to [−2048, 2047].

The twin's path (:class:`PlutoFrontend`, settings read from its
:class:`~psfl.hil.pluto_state.PlutoState` at every block):

1. TX: the stream (the last cyclic buffer pushed to ``cf-ad9361-dds-core-lpc``, started at
   a random offset when ``random_offset``; non-cyclic pushes are one-shot bursts).
2. LO mismatch: ``tx_lo − rx_lo`` becomes a frequency offset; beyond ±fs/2 the signal
   falls outside the band and only noise remains.
3. ``channel(x) -> y``: the user's propagation callable (default: identity), applied to
   each block of ``rx_buffer_size`` samples, complex128 in and out, same length.
4. Noise: the receiver's floor (:func:`receiver_floor`: kTB·NF of the RX LO band times
   the RX gain, plus the converter's own noise), or, when larger, the noise that makes the
   SNR of the loaded TX waveform at the receiver input ``snr_db`` (fixed at the TX gain
   the waveform was loaded with). The floor does not depend on the transmitter: with
   nothing sent, or at maximum TX attenuation, the RX buffer shows noise.
5. RF gain: ``tx_hardwaregain + rx_hardwaregain + loopback_gain_db`` in manual mode; in the
   AGC modes the twin picks the RX gain (the LO band's range, 1 dB steps) that puts the
   block RMS at ``agc_target_dbfs`` and reports it as ``rx_hardwaregain``. The
   ``loopback`` debug attribute set to 1 (digital loopback) bypasses 2–5.
6. ADC: 12-bit codes, sent as ``le:S12/16``; their power gives ``in_voltage0_rssi``
   (:func:`rssi_db`).

Needs only numpy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from psfl.hil.pluto_model import PHY, TXDAC
from psfl.hil.pluto_rules import RX_GAIN_RANGE, dds_scale
from psfl.hil.pluto_state import PlutoState
from psfl.hil.pluto_tables import (
    ADC_NOISE_LSB_RMS,
    FULL_SCALE_INPUT_DBM_AT_0DB,
    KT_DBM_PER_HZ,
    RSSI_RANGE_DB,
    RSSI_STEP_DB,
    rx_band,
)
from psfl.hil.twin.dds import TONES, dds_block

__all__ = [
    "ADC_FULL_SCALE",
    "DAC_FULL_SCALE",
    "DAC_LIMIT",
    "ChannelFn",
    "PlutoFrontend",
    "TxStream",
    "adc",
    "agc_gain_db",
    "awgn",
    "dac_rails",
    "dac_words",
    "receiver_floor",
    "rotate",
    "rssi_db",
]

ADC_FULL_SCALE = 2048  # 12-bit signed: codes -2048 … 2047
DAC_FULL_SCALE = 32768.0  # pyadi's int16 rail
#: Largest magnitude per rail that survives the DAC's 12-bit truncation (2047 << 4).
DAC_LIMIT = 2047.0 * 16

ChannelFn = Callable[[np.ndarray], np.ndarray]


# -- stages -------------------------------------------------------------------------------
def dac_words(words: np.ndarray) -> np.ndarray:
    """DAC output for int16 words as pushed by ``WRITEBUF``.

    Input
    -----
    words : [...], int16 — the DAC takes the 12 MSBs (an arithmetic shift).

    Output
    ------
    x : [...], float64 — normalized to full scale.
    """
    return (words.astype(np.int32) >> 4).astype(np.float64) / ADC_FULL_SCALE


def dac_rails(samples: np.ndarray) -> np.ndarray:
    """DAC output for pyadi-scaled samples (rails within ±:data:`DAC_LIMIT`).

    Input
    -----
    samples : [n], complex — clipped at the 12-bit limit, then truncated to the 12 MSBs.

    Output
    ------
    x : [n], complex128 — normalized to full scale.
    """
    x = np.asarray(samples, np.complex128)
    x = np.clip(x.real, -DAC_LIMIT, DAC_LIMIT) + 1j * np.clip(x.imag, -DAC_LIMIT, DAC_LIMIT)
    return np.trunc(x.real / 16) * 16 / DAC_FULL_SCALE + 1j * (
        np.trunc(x.imag / 16) * 16 / DAC_FULL_SCALE
    )


def rotate(
    x: np.ndarray, freq_hz: float, sample_rate_hz: float, t0: int, walk: np.ndarray | None = None
) -> np.ndarray:
    """Carrier offset on the global sample clock.

    Input
    -----
    x : [n], complex; ``t0`` : int — global index of ``x[0]``; ``walk`` : [n] float or None
    — extra phase [rad] (phase noise).

    Output
    ------
    y : [n], complex128 — :math:`x_k e^{j(2\\pi f (t_0 + k)/f_s + \\mathrm{walk}_k)}`.
    """
    ph = 2 * np.pi * freq_hz / sample_rate_hz * (t0 + np.arange(x.size))
    if walk is not None:
        ph = ph + walk
    return x * np.exp(1j * ph)


def awgn(
    rng: np.random.Generator, n: int, ref_power: float, snr_db: float | None
) -> np.ndarray | None:
    """Complex Gaussian noise ``snr_db`` below ``ref_power``; ``None`` when ``snr_db`` is.

    Output
    ------
    w : [n], complex128 — I draws first, then Q (so the stream matches two draws of ``n``).
    """
    if snr_db is None:
        return None
    sigma = np.sqrt(ref_power / 10 ** (snr_db / 10) / 2)
    w = rng.standard_normal((2, n))
    return sigma * (w[0] + 1j * w[1])


def agc_gain_db(
    y: np.ndarray, path_db: float, target_dbfs: float, gain_range: tuple[float, float] = RX_GAIN_RANGE
) -> float:
    """RX gain an AGC picks so that the block RMS after ``path_db`` lands at
    ``target_dbfs``, in the AD9361's 1 dB steps within ``gain_range`` (the LO band's)."""
    rms = float(np.sqrt(np.mean(np.abs(y) ** 2))) * 10 ** (path_db / 20)
    g_db = target_dbfs - 20 * np.log10(max(rms, 1e-12))
    return float(np.clip(np.round(g_db), *gain_range))


def receiver_floor(gain_db: float, lo_hz: int, bandwidth_hz: float) -> float:
    r"""Noise power of the receiver at the ADC, in full-scale units (1.0 = 0 dBFS).

    Thermal noise :math:`kTB` times the noise figure of the LO band, amplified by the RX
    gain, plus the converter's own noise (:data:`~psfl.hil.pluto_tables.ADC_NOISE_LSB_RMS`
    per rail), which does not follow the gain:

    .. math:: N = 10^{(kT + 10\log_{10} B + NF - (P_{FS,0} - G))/10} + 2\,(a/2048)^2

    with :math:`B` the noise bandwidth (the narrower of the sample rate and the RF filter).
    """
    in_dbm = KT_DBM_PER_HZ + 10 * np.log10(max(bandwidth_hz, 1.0)) + rx_band(lo_hz).noise_figure_db
    thermal = 10 ** ((in_dbm - (FULL_SCALE_INPUT_DBM_AT_0DB - gain_db)) / 10)
    return float(thermal + 2 * (ADC_NOISE_LSB_RMS / ADC_FULL_SCALE) ** 2)


def rssi_db(gain_db: float, power_fs: float) -> float:
    """RSSI as the driver prints it: received power referred to the input (the gain taken
    out, as the chip's gain-step-corrected RSSI is), in 0.25 dB steps within 0…127.75 dB;
    larger means weaker (:data:`~psfl.hil.pluto_tables.FULL_SCALE_INPUT_DBM_AT_0DB`)."""
    value = gain_db - 10 * np.log10(max(power_fs, 1e-30))
    return float(np.clip(np.round(value / RSSI_STEP_DB) * RSSI_STEP_DB, *RSSI_RANGE_DB))


def adc(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """12-bit quantization with saturation.

    Input
    -----
    y : [n], complex — normalized to full scale.

    Output
    ------
    (i, q) : ([n], [n]), float64 — integer-valued codes in [−2048, 2047].
    """
    lo, hi = -ADC_FULL_SCALE, ADC_FULL_SCALE - 1
    return (
        np.clip(np.round(y.real * ADC_FULL_SCALE), lo, hi),
        np.clip(np.round(y.imag * ADC_FULL_SCALE), lo, hi),
    )


# -- the TX side --------------------------------------------------------------------------
@dataclass
class _Burst:
    start: int  # global RX sample index of the first sample
    samples: np.ndarray  # complex128, normalized


class TxStream:
    """What the DAC emits, on a global RX sample clock advanced only by :meth:`read`.

    Holds one cyclic buffer (repeated forever from its start index) and one-shot bursts.
    Not locked: its owner serializes access.

    Input
    -----
    :meth:`load` / :meth:`burst` — samples : [L], complex128 normalized.

    Output
    ------
    :meth:`read` — (t0, x) : (int, [n] complex128), the next ``n`` samples on the clock.
    """

    def __init__(self) -> None:
        self.cyclic: np.ndarray | None = None
        self.start = 0  # global index where cyclic[0] falls (before the first repeat)
        self.position = 0  # next global RX sample index
        self._bursts: list[_Burst] = []

    def load(self, samples: np.ndarray, offset: int = 0) -> None:
        """Repeat ``samples`` from now on, the next read starting at ``samples[offset]``."""
        self.cyclic = samples
        self.start = self.position - offset

    def burst(self, samples: np.ndarray) -> None:
        """Emit ``samples`` once, starting with the next read."""
        self._bursts.append(_Burst(self.position, samples))

    def clear(self) -> None:
        """Stop the cyclic buffer (the DMA stopped; the DAC is quiet)."""
        self.cyclic = None

    def offset(self, rx_index: int | None = None) -> int | None:
        """Index into the cyclic buffer that lands on RX sample ``rx_index`` (default: the
        next one); ``None`` when nothing is repeated."""
        if self.cyclic is None:
            return None
        n = self.position if rx_index is None else rx_index
        return int((n - self.start) % len(self.cyclic))

    def read(self, n: int) -> tuple[int, np.ndarray]:
        """The next ``n`` samples.

        Output
        ------
        (t0, x) : (int, [n] complex128) — global index of ``x[0]``; zeros where nothing is sent.
        """
        p0 = self.position
        self.position += n
        if self.cyclic is None:
            x = np.zeros(n, dtype=np.complex128)
        else:
            x = self.cyclic[(p0 - self.start + np.arange(n)) % len(self.cyclic)]
        keep = []
        for b in self._bursts:
            lo, hi = max(p0, b.start), min(p0 + n, b.start + len(b.samples))
            if lo < hi:
                x[lo - p0 : hi - p0] += b.samples[lo - b.start : hi - b.start]
            if b.start + len(b.samples) > p0 + n:
                keep.append(b)
        self._bursts = keep
        return p0, x


# -- the twin's path ----------------------------------------------------------------------
class PlutoFrontend:
    """A Pluto's TX→RX path in cabled loopback, driven by its attribute state.

    Parameters
    ----------
    state : PlutoState
        LOs, sample rate, gains, gain mode and loopback mode, read at every block.
    snr_db : float or None
        SNR of the loaded TX waveform at the receiver input; ``None``: only the receiver's
        own noise floor (:func:`receiver_floor`), which also bounds the noise from below.
    channel : ChannelFn or None
        Propagation callable ``channel(x: complex128[n]) -> complex[n]`` applied per block
        before noise, gain and quantization; ``None``: identity. May be replaced at run time.
    loopback_gain_db : float
        Path gain between TX and RX ports on top of TX attenuation and RX gain.
    agc_target_dbfs : float or None
        Block RMS the emulated AGC (slow/fast_attack, hybrid) aims for; ``None``: the middle
        of the chip's inner AGC window (−11 dBFS with a Pluto's settings).
    random_offset : bool
        Start a newly loaded cyclic buffer at a random sample (``True``) or at 0.
    seed : int or None
        Seed of the generator (offsets, noise).

    Input
    -----
    :meth:`load_tx` — iq : [n], complex128 normalized.

    Output
    ------
    :meth:`receive` — codes : [n, 2], int16 (I, Q ADC codes).

    Thread-safe: buffer connections and the context connection run on different threads.
    """

    def __init__(
        self,
        state: PlutoState,
        *,
        snr_db: float | None,
        channel: ChannelFn | None,
        loopback_gain_db: float,
        agc_target_dbfs: float | None,
        random_offset: bool,
        seed: int | None,
    ) -> None:
        self.state = state
        self.snr_db = snr_db
        self.channel = channel
        self.loopback_gain_db = float(loopback_gain_db)
        self._agc_target = None if agc_target_dbfs is None else float(agc_target_dbfs)
        self.random_offset = random_offset
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()  # the stream, the generator and the owner below
        self._tx = TxStream()
        self._tx_owner: object | None = None
        self._dma_owners: set[object] = set()  # open TX buffers: the DAC sends DMA data
        # Mean power of the loaded waveform and the TX gain it was loaded with: ``snr_db``
        # is the SNR of that waveform at the receiver input, so turning the TX attenuation
        # afterwards moves the signal, not the noise (None until a waveform is loaded).
        self._ref_power: float | None = None
        self._ref_tx_db = 0.0
        self._rssi: tuple[float, float] | None = None  # (wall time, dB) of the last block
        state.rssi_probe = self.rssi

    @property
    def tx_waveform(self) -> np.ndarray | None:
        """The cyclic TX waveform being transmitted, normalized (complex128), or ``None``."""
        with self._lock:
            return None if self._tx.cyclic is None else self._tx.cyclic.copy()

    @property
    def agc_target_dbfs(self) -> float:
        """Block power [dBFS] the emulated AGC settles at: as set, or the middle of the
        chip's inner AGC window (``adi,agc-inner-thresh-high``/``-low``: −10…−12 dBFS on a
        Pluto), inside which the AD9361's AGC leaves the gain alone."""
        if self._agc_target is not None:
            return self._agc_target
        dbg = [int(self.state.get(PHY, "debug", f"adi,agc-inner-thresh-{k}")) for k in ("high", "low")]
        return -sum(dbg) / 2

    @agc_target_dbfs.setter
    def agc_target_dbfs(self, value: float | None) -> None:
        self._agc_target = None if value is None else float(value)

    @property
    def rx_position(self) -> int:
        """Global RX sample clock: samples delivered so far."""
        return self._tx.position

    def tx_offset(self, rx_index: int | None = None) -> int | None:
        """Index into the cyclic TX buffer that lands on RX sample ``rx_index``.

        Parameters
        ----------
        rx_index:
            Global RX sample index (default: the next sample to be read).

        Returns
        -------
        int or None
            ``(rx_index − start) mod len(tx)``; ``None`` when nothing is transmitted.
        """
        with self._lock:
            return self._tx.offset(rx_index)

    def load_tx(self, iq: np.ndarray, cyclic: bool, owner: object) -> None:
        """Install a pushed TX buffer (normalized complex128) on behalf of ``owner``."""
        with self._lock:
            p = float(np.mean(np.abs(iq) ** 2)) if iq.size else 0.0
            if p > 0:
                self._ref_power = p
                self._ref_tx_db = self.state.tx_gain_db
            if cyclic:
                off = int(self._rng.integers(0, len(iq))) if self.random_offset and len(iq) else 0
                self._tx.load(iq, off)
                self._tx_owner = owner
            else:
                self._tx.burst(iq)

    def dma_open(self, owner: object) -> None:
        """``owner`` opened a TX buffer: the DAC's data source is the DMA (DDS off)."""
        with self._lock:
            self._dma_owners.add(owner)

    def dma_close(self, owner: object) -> None:
        """``owner`` closed its TX buffer: with no buffer left the DDS plays again."""
        with self._lock:
            self._dma_owners.discard(owner)

    def stop_tx(self, owner: object) -> None:
        """The TX buffer of ``owner`` was closed: the DMA stops, the DAC goes quiet."""
        with self._lock:
            if self._tx_owner is owner:
                self._tx.clear()
                self._tx_owner = None

    def receive(self, n: int) -> np.ndarray:
        """Next ``n`` RX samples as ADC codes, shape ``(n, 2)`` int16 (I, Q)."""
        with self._lock:
            p0, x = self._tx.read(n)
            tones = None if self._dma_owners else dds_block(self.state, p0, n)
            # numpy Generators are not thread-safe: draw under the lock, and always (even in
            # digital loopback, which uses no noise) so the stream of draws stays the same.
            w = self._rng.standard_normal((2, n))
        if tones is not None:
            x = x + tones
        if self.state.loopback_mode == 1:
            y = x  # digital loopback inside the FPGA: no RF, no noise
        else:
            y = self._rf(x, p0, w)
        codes = np.empty((n, 2), dtype=np.int16)
        codes[:, 0], codes[:, 1] = adc(y)
        self._measure(codes)
        return codes

    def _link_sigma(self) -> float:
        """Per-rail noise amplitude of ``snr_db`` on the TX side, at the current TX gain."""
        if self.snr_db is None or self._ref_power is None:
            return 0.0
        sigma = np.sqrt(self._ref_power / 10 ** (self.snr_db / 10) / 2)
        # 10**0 == 1.0 exactly: with the TX gain unchanged the noise is, to the last bit, what
        # the twin drew before it had a floor (psfl hil keeps its numbers)
        return float(sigma * 10 ** ((self._ref_tx_db - self.state.tx_gain_db) / 20))

    def _rf(self, x: np.ndarray, t0: int, w: np.ndarray) -> np.ndarray:
        """Stages 2–5 of the module docstring; ``w`` : [2, n] standard normal draws."""
        st = self.state
        fs = st.sample_rate
        df = st.tx_lo - st.rx_lo
        if abs(df) >= fs / 2:
            x = np.zeros_like(x)  # the TX carrier is outside the RX band
        elif df != 0:
            x = rotate(x, df, fs, t0)
        y = np.asarray(self.channel(x) if self.channel is not None else x, dtype=np.complex128)
        if y.shape != x.shape:
            raise ValueError(f"channel returned shape {y.shape}, expected {x.shape}")
        link = self._link_sigma()
        path_db = st.tx_gain_db + self.loopback_gain_db
        if st.gain_control_mode == "manual":
            g_db = st.rx_gain_db
        else:
            y_agc = y + link * (w[0] + 1j * w[1]) if link > 0 else y
            g_db = agc_gain_db(y_agc, path_db, self.agc_target_dbfs, st.rx_gain_range)
            st.set_agc_gain(g_db)
        a = 10 ** ((path_db + g_db) / 20)
        # The receiver never sees less noise than its own floor: snr_db is the SNR at the
        # receiver input, limited by the floor set by the gain and the noise figure.
        floor = np.sqrt(receiver_floor(g_db, st.rx_lo, self._noise_bandwidth()) / 2) / a
        sigma = max(link, floor)
        y = y + sigma * (w[0] + 1j * w[1])
        return y * a

    def _noise_bandwidth(self) -> float:
        st = self.state
        return float(min(st.sample_rate, st.rx_rf_bandwidth))

    # -- RSSI -------------------------------------------------------------------------
    def _measure(self, codes: np.ndarray) -> None:
        """Record the RSSI of a received block (RX1: the twin's one RX channel)."""
        p = float(np.mean(codes.astype(np.float64) ** 2)) * 2 / ADC_FULL_SCALE**2
        self._rssi = (time.monotonic(), rssi_db(self.state.rx_gain_db, p))

    def rssi(self) -> float:
        """``in_voltage0_rssi`` [dB]: the last received block's power while a reader is
        streaming (within the last second); otherwise the power the receiver would see
        now (the floor plus the transmitted signal through the TX and RX gains)."""
        last = self._rssi
        if last is not None and time.monotonic() - last[0] < 1.0:
            return last[1]
        st = self.state
        g = st.rx_gain_db
        p = receiver_floor(g, st.rx_lo, self._noise_bandwidth())
        if st.loopback_mode != 1 and abs(st.tx_lo - st.rx_lo) < st.sample_rate / 2:
            p += self.source_power() * 10 ** ((st.tx_gain_db + self.loopback_gain_db + g) / 10)
        return rssi_db(g, p)

    def source_power(self) -> float:
        """Mean power of what the DAC sends now (the cyclic waveform, or the DDS tones when
        no buffer is open), full-scale units."""
        # No lock: this runs inside the state's lock (an RSSI read), and receive() takes the
        # state's lock inside ours; reading two references is atomic enough for an estimate.
        cyc = self._tx.cyclic
        p = float(np.mean(np.abs(cyc) ** 2)) if cyc is not None and cyc.size else 0.0
        if not self._dma_owners and self.state.dds_enabled:
            p += sum(dds_scale(int(self.state.get(TXDAC, f"out:{c}", "scale"))) ** 2 / 2
                     for c in TONES)
        return p
