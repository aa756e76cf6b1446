r"""Baseband OFDM transmitter: psfl.phy's slots turned into radio samples.

Frame layout (one frame per image; ``N = fft_size``, ``C = cp_length``, every OFDM symbol
is ``N + C`` samples with its cyclic prefix)::

    | guard (zeros) | S1 | S2 | HDR | slot 0: 14 symbols | … | slot ns-1 |

* **S1** — Schmidl–Cox training symbol: QPSK on the *even* FFT bins of the occupied band
  only, so its body is two identical halves of ``N/2`` samples. The receiver's
  half-correlation finds the frame (timing metric plateau) and the fractional CFO
  :math:`\epsilon_f = \angle P / \pi` (unambiguous in :math:`(-1, 1]` subcarrier spacings).
* **S2** — QPSK on every occupied bin: the integer (even) part of the CFO, the fine timing
  (phase slope across subcarriers) and the channel estimate for the header.
* **HDR** — BPSK on every occupied bin: a 16-bit frame number and a CRC-8 (24 bits,
  repeated over the subcarriers, scrambled by a fixed ±1 sequence against a peaky symbol), so that frames captured from a cyclic buffer at a random
  offset are put back in order and false detections are rejected.
* **slots** — exactly :class:`psfl.phy.grid.SlotGrid`'s resource grid: pilots on the pilot
  OFDM symbols, the ``k`` semantic symbols on the data REs in the same order as in
  :class:`psfl.phy.UplinkLink`, the last slot zero-padded.

Subcarrier ``f`` of the grid (0 = lowest frequency) sits on FFT bin ``f - F/2`` for
``f < F/2`` and ``f - F/2 + 1`` otherwise: the DC bin stays empty, so the radio's DC offset
and LO leakage fall on no symbol. Time samples use the unitary DFT (``norm="ortho"``), so
a resource element of power 1 and time-domain noise of variance :math:`\sigma^2` give the
per-RE SNR :math:`1/\sigma^2` that ``UplinkLink``'s ``snr_db`` means.

DAC scaling: pyadi-iio takes complex samples whose rails are 16-bit integers of which the
AD936x uses the 12 MSBs; the usual convention (pyadi examples) keeps them within about
:math:`\pm 2^{14}`, 6 dB under the integer limit. :meth:`FrameFormat.to_dac` scales the
waveform's RMS (over the non-guard samples) to :math:`2^{14}\cdot 10^{-\mathrm{backoff}/20}`
and clips each rail at :math:`\pm(2^{15}-16)` (the largest 12-bit code), reporting the
fraction of clipped samples.
"""

from __future__ import annotations

import numpy as np

from psfl.hil.twin.frontend import DAC_LIMIT  # the DAC stage owns its limit
from psfl.phy.config import PhyConfig

__all__ = ["DAC_SCALE", "DAC_LIMIT", "FrameFormat", "crc8", "header_bits"]

#: pyadi-iio's customary peak scale of TX samples (per rail).
DAC_SCALE = 2.0**14
HEADER_INDEX_BITS = 16
HEADER_BITS = 24


def crc8(bits: np.ndarray) -> np.ndarray:
    """CRC-8 (polynomial x^8+x^2+x+1, 0x07, init 0) of a bit vector.

    Input
    -----
    bits : [n], integer 0/1

    Output
    ------
    crc : [8], uint8 0/1, most significant bit first
    """
    reg = 0
    for b in np.asarray(bits, dtype=np.uint8):
        top = ((reg >> 7) & 1) ^ int(b)
        reg = (reg << 1) & 0xFF
        if top:
            reg ^= 0x07
    return np.array([(reg >> (7 - i)) & 1 for i in range(8)], dtype=np.uint8)


def header_bits(index: int) -> np.ndarray:
    """The 24 header bits of frame ``index``: 16 index bits (MSB first) then CRC-8.

    Output
    ------
    bits : [24], uint8
    """
    if not 0 <= index < 1 << HEADER_INDEX_BITS:
        raise ValueError(f"frame index {index} outside 0…{(1 << HEADER_INDEX_BITS) - 1}")
    b = np.array([(index >> (HEADER_INDEX_BITS - 1 - i)) & 1
                  for i in range(HEADER_INDEX_BITS)], dtype=np.uint8)
    return np.concatenate([b, crc8(b)])


def _qpsk(rng: np.random.Generator, n: int) -> np.ndarray:
    bits = rng.integers(0, 2, size=(2, n))
    return ((1 - 2 * bits[0]) + 1j * (1 - 2 * bits[1])) / np.sqrt(2.0)


class FrameFormat:
    r"""Frame layout, modulator and the reference sequences shared by TX and RX.

    Parameters
    ----------
    cfg : PhyConfig
        Numerology and pilot pattern (``fft_size``, ``cp_length``, ``num_subcarriers``,
        ``num_ofdm_symbols``, pilots). ``pilot_pattern`` must be ``"kronecker"``: the
        receiver estimates the channel from the pilots.
    k : int
        Semantic symbols per frame (per image).
    guard : int or None
        Zeros between frames [samples]; ``None`` means ``fft_size``.
    sample_rate_hz : float or None
        Baseband sample rate; ``None`` means ``fft_size * scs_hz``. Sets the subcarrier
        spacing ``sample_rate_hz / fft_size`` actually on the air.
    seed : int
        Seed of the S1/S2 QPSK sequences (TX and RX must agree).

    Attributes
    ----------
    bins : [F], int
        FFT bin (``0…N-1``) of each grid subcarrier.
    s1_freq, s2_freq : [F], complex128
        S1 (zero on odd bins, :math:`\sqrt2` amplitude on even ones) and S2 on the grid.
    frame_len : int
        Samples per frame including the guard.
    body_offset : int
        Samples from the frame start to the CP of S1 (= guard).
    """

    def __init__(self, cfg: PhyConfig, k: int, *, guard: int | None = None,
                 sample_rate_hz: float | None = None, seed: int = 0x5EED):
        if cfg.pilot_pattern != "kronecker":
            raise ValueError("the HIL receiver needs pilots; set phy.pilot_pattern='kronecker'")
        if cfg.fft_size % 2:
            raise ValueError(f"phy.fft_size {cfg.fft_size} must be even (S1 has two halves)")
        if cfg.num_subcarriers + 1 > cfg.fft_size:
            raise ValueError(f"phy.num_subcarriers ({cfg.num_subcarriers}) + the empty DC bin "
                             f"must fit in phy.fft_size ({cfg.fft_size})")
        if cfg.num_subcarriers < HEADER_BITS:
            raise ValueError(f"phy.num_subcarriers must be >= {HEADER_BITS} (frame header)")
        from psfl.phy.grid import SlotGrid

        self.cfg = cfg
        self.grid = SlotGrid(cfg)
        self.k = int(k)
        self.n_fft, self.n_cp, self.n_sc = cfg.fft_size, cfg.cp_length, cfg.num_subcarriers
        self.n_sym = cfg.num_ofdm_symbols
        self.sym_len = self.n_fft + self.n_cp
        self.num_slots = self.grid.num_slots(self.k)
        self.guard = self.n_fft if guard is None else int(guard)
        self.sample_rate_hz = float(sample_rate_hz or cfg.fft_size * cfg.scs_hz)
        self.scs_hz = self.sample_rate_hz / self.n_fft
        f = np.arange(self.n_sc)
        half = self.n_sc // 2
        offs = np.where(f < half, f - half, f - half + 1)
        self.bin_offsets = offs  # signed bin of each subcarrier
        self.bins = offs % self.n_fft
        rng = np.random.default_rng(seed)
        even = (offs % 2) == 0
        s1 = np.zeros(self.n_sc, np.complex128)
        s1[even] = np.sqrt(2.0) * _qpsk(rng, int(even.sum()))
        self.s1_freq = s1
        self.s2_freq = _qpsk(rng, self.n_sc)
        # The header's 24 bits repeat across the band; a periodic spectrum is a pulse train
        # in time (~19 dB PAPR), so they are scrambled with a fixed ±1 sequence.
        self.header_scrambler = 1.0 - 2.0 * rng.integers(0, 2, self.n_sc)
        # Data-RE bookkeeping straight from SlotGrid (so the order is UplinkLink's): unmap a
        # grid of RE numbers to learn which RE each data symbol lands on.
        nd = self.grid.num_data_per_slot
        ids = np.arange(self.n_sym * self.n_sc, dtype=np.int32).reshape(1, self.n_sym, self.n_sc)
        self.data_pos = np.asarray(self.grid.unmap(ids, nd))[0].astype(np.int64)  # [nd]
        self.pilot_symbols = tuple(self.grid.pilot_symbol_indices)
        self.pilots = np.asarray(self.grid.pilots).astype(np.complex128)  # [P, F]
        self.num_preamble_symbols = 3
        self.frame_len = self.guard + (3 + self.num_slots * self.n_sym) * self.sym_len
        self.body_offset = self.guard

    # -- durations ------------------------------------------------------------------------
    @property
    def airtime_s(self) -> float:
        """Air time of one frame including its guard [s]."""
        return self.frame_len / self.sample_rate_hz

    # -- modulation -----------------------------------------------------------------------
    def ofdm(self, freq: np.ndarray) -> np.ndarray:
        """Grid subcarriers → time samples with CP (unitary IFFT).

        Input
        -----
        freq : [..., F], complex

        Output
        ------
        x : [..., N + C], complex128
        """
        full = np.zeros(freq.shape[:-1] + (self.n_fft,), np.complex128)
        full[..., self.bins] = freq
        t = np.fft.ifft(full, norm="ortho")
        return np.concatenate([t[..., self.n_fft - self.n_cp:], t], axis=-1)

    def slot_grid(self, z: np.ndarray) -> np.ndarray:
        """Map one frame's symbols and the pilots onto its slots (SlotGrid's order).

        Input
        -----
        z : [k], complex

        Output
        ------
        grid : [num_slots, T, F], complex128
        """
        nd = self.grid.num_data_per_slot
        pad = np.zeros(self.num_slots * nd, np.complex128)
        pad[: self.k] = z
        g = np.zeros((self.num_slots, self.n_sym * self.n_sc), np.complex128)
        g[:, self.data_pos] = pad.reshape(self.num_slots, nd)
        g = g.reshape(self.num_slots, self.n_sym, self.n_sc)
        g[:, list(self.pilot_symbols)] = self.pilots
        return g

    def header_freq(self, index: int) -> np.ndarray:
        """BPSK header of frame ``index`` on the grid, [F] complex128."""
        bits = np.resize(header_bits(index), self.n_sc)
        return ((1.0 - 2.0 * bits) * self.header_scrambler).astype(np.complex128)

    def modulate(self, z: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Frames for a batch of symbol vectors, back to back.

        Input
        -----
        z : [B, k], complex — semantic symbols (unit mean power), one frame per row.
        first_index : int — frame number of row 0 (written into the headers).

        Output
        ------
        x : [B * frame_len], complex128 — normalized baseband (unit power per RE).
        """
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != self.k:
            raise ValueError(f"z must have shape [B, {self.k}], got {z.shape}")
        frames = []
        pre = self.ofdm(np.stack([self.s1_freq, self.s2_freq]))  # [2, N+C]
        for b in range(z.shape[0]):
            hdr = self.ofdm(self.header_freq(first_index + b))
            slots = self.ofdm(self.slot_grid(z[b])).reshape(-1)
            frames.append(np.concatenate([np.zeros(self.guard, np.complex128),
                                          pre.reshape(-1), hdr, slots]))
        return np.concatenate(frames)

    def to_dac(self, x: np.ndarray, backoff_db: float) -> tuple[np.ndarray, float]:
        """Scale to pyadi's TX range with ``backoff_db`` of RMS back-off under 2^14.

        Input
        -----
        x : [n], complex — normalized waveform from :meth:`modulate`.
        backoff_db : float — RMS (over non-zero samples) below :data:`DAC_SCALE` [dB].

        Output
        ------
        samples : [n], complex128 — rails integer-valued, clipped at :data:`DAC_LIMIT`.
        clip_fraction : float — share of samples with a clipped rail.
        """
        active = np.abs(x) > 0
        rms = float(np.sqrt(np.mean(np.abs(x[active]) ** 2))) if active.any() else 1.0
        y = x * (DAC_SCALE * 10.0 ** (-backoff_db / 20.0) / rms)
        re, im = np.round(y.real), np.round(y.imag)
        clipped = (np.abs(re) > DAC_LIMIT) | (np.abs(im) > DAC_LIMIT)
        re = np.clip(re, -DAC_LIMIT, DAC_LIMIT)
        im = np.clip(im, -DAC_LIMIT, DAC_LIMIT)
        return re + 1j * im, float(np.mean(clipped))
