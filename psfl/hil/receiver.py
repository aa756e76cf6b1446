r"""OFDM receiver: frames in a capture → equalized semantic symbols and their noise variance.

Per frame (see :mod:`psfl.hil.waveform` for the layout and :mod:`psfl.hil.sync` for the
estimators):

1. **DC removal** — the capture's mean is subtracted (the DC bin carries nothing; a DC
   offset would otherwise look like a repeated half-symbol to Schmidl–Cox).
2. **Detection and coarse timing** — plateaus of the timing metric above the threshold;
   the CP start of S1 is the plateau centre minus ``C/2``.
3. **CFO** — fractional part from the phase of :math:`P` over the plateau, even integer part
   from S2 over ``±max_cfo`` spacings; the frame is de-rotated with a phase continuous from
   S1.
4. **Fine timing** — the phase slope of S2's channel across subcarriers gives the delay of
   the channel's centre of gravity; every FFT window then starts ``backoff`` samples early
   inside the CP (so a multipath tail does not spill in from the next symbol), and the
   remaining linear phase (backoff + fractional delay) is removed per subcarrier.
5. **Header** — BPSK equalized with S2's (frequency-smoothed) channel; a frame counts as
   *detected* only if the CRC-8 holds.
6. **Residual CFO** — the phase advance between the first and last pilot symbol of each
   slot (pilot-aided, averaged over slots) is removed symbol by symbol and added to the CFO
   estimate.
7. **Channel estimation and equalization** — the same estimator as
   :class:`psfl.phy.estimation.LSEstimator`: LS at the pilots, averaged over
   ``ls_freq_window`` subcarriers, linear interpolation in time between pilot symbols;
   then :math:`\hat x = y / \hat h` with
   :math:`N_{0,\mathrm{eff}} = (N_0 + \sigma^2_e) / |\hat h|^2` (single-antenna LMMSE
   with the bias removed, as in :func:`psfl.phy.estimation.combine`).
8. **Noise and SNR** — :math:`N_0` from the second difference of the raw pilot LS
   estimates across subcarriers, :math:`d_f = h_f - (h_{f-1}+h_{f+1})/2`, whose variance is
   :math:`1.5\,N_0` for any channel linear over three subcarriers; the SNR per RE is
   :math:`(\overline{|\hat h|^2} - \sigma^2_e)/N_0`.

Reported per frame: detected, frame number, timing (sample index of S1's CP start in the
capture, with the fractional fine-timing part), CFO in Hz and subcarrier spacings, SNR
(dB), pilot EVM (dB) and, when the transmitted symbols are known, data EVM (dB).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from psfl.hil.sync import find_plateaus, integer_cfo, schmidl_cox
from psfl.hil.waveform import HEADER_BITS, HEADER_INDEX_BITS, FrameFormat, crc8
from psfl.phy.estimation import time_interpolation_weights, window_counts

__all__ = ["FrameResult", "Receiver"]


@dataclasses.dataclass
class FrameResult:
    """One frame found in a capture.

    Attributes
    ----------
    index : int
        Frame number from the header (-1 when the header failed).
    header_ok : bool
        CRC-8 of the header holds (the frame is *detected*).
    start : float
        S1's CP start in the capture [samples], fine timing included.
    cfo_sc, cfo_hz : float
        Estimated CFO [subcarrier spacings] and [Hz].
    snr_db : float
        Estimated SNR per resource element [dB].
    pilot_evm_db : float
        EVM of the equalized pilots [dB].
    metric : float
        Schmidl–Cox plateau maximum.
    y : [num_slots, T, F], complex64
        Equalized grid (pilots included).
    no_eff : [num_slots, T, F], float32
        Post-equalization noise variance per RE.
    no : float
        Estimated noise variance per RE (unit-power REs).
    """

    index: int
    header_ok: bool
    start: float
    cfo_sc: float
    cfo_hz: float
    snr_db: float
    pilot_evm_db: float
    metric: float
    y: np.ndarray
    no_eff: np.ndarray
    no: float

    def symbols(self, fmt: FrameFormat) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` data symbols and their noise variances in transmit order.

        Output
        ------
        y : [k], complex64
        no_eff : [k], float32
        """
        nd = fmt.grid.num_data_per_slot
        flat = self.y.reshape(fmt.num_slots, -1)[:, fmt.data_pos].reshape(-1)[: fmt.k]
        nof = self.no_eff.reshape(fmt.num_slots, -1)[:, fmt.data_pos].reshape(-1)[: fmt.k]
        assert flat.size == fmt.k <= fmt.num_slots * nd
        return flat.astype(np.complex64), nof.astype(np.float32)


def _smooth(h: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Average over ``2*half+1`` adjacent subcarriers (fewer at the band edges), last axis."""
    if half == 0:
        return h, np.ones(h.shape[-1])
    n = h.shape[-1]
    pad = np.pad(h, [(0, 0)] * (h.ndim - 1) + [(half, half)])
    acc = sum(pad[..., j:j + n] for j in range(2 * half + 1))
    count = window_counts(n, half)
    return acc / count, count


class Receiver:
    r"""Finds and demodulates every frame of a capture.

    Parameters
    ----------
    fmt : FrameFormat
        The transmitter's frame layout (numerology, preamble, pilots, ``k``).
    max_cfo_subcarriers : float
        CFO search range [subcarrier spacings].
    threshold : float
        Schmidl–Cox detection threshold on :math:`M` (0…1).
    backoff : int or None
        Samples the FFT window starts early inside the CP; ``None`` means ``C // 4``.

    Input
    -----
    r : [n], complex
        Captured baseband samples (any scale).

    Output
    ------
    frames : list of :class:`FrameResult`
        Every frame whose preamble lies completely in the capture, in order of time
        (undecodable headers included with ``header_ok=False``).
    """

    def __init__(self, fmt: FrameFormat, *, max_cfo_subcarriers: float = 6.0,
                 threshold: float = 0.3, backoff: int | None = None):
        self.fmt = fmt
        self.max_cfo = float(max_cfo_subcarriers)
        self.threshold = float(threshold)
        self.backoff = fmt.n_cp // 4 if backoff is None else int(backoff)
        g = int(np.ceil((self.max_cfo + 1.0) / 2.0))
        self._candidates = 2 * np.arange(-g, g + 1)
        w = time_interpolation_weights(fmt.n_sym, fmt.pilot_symbols)
        self._wt = w
        self._half_win = fmt.cfg.ls_freq_window // 2
        _, count = _smooth(np.zeros((1, fmt.n_sc)), self._half_win)
        self._err_shape = (w**2).sum(1)[:, None] / count[None, :]  # [T, F]
        self._pilot_conj = np.conj(fmt.pilots)  # [P, F]
        self._body_len = (3 + fmt.num_slots * fmt.n_sym) * fmt.sym_len

    def __call__(self, r: np.ndarray) -> list[FrameResult]:
        fmt = self.fmt
        r = np.asarray(r, np.complex128)
        r = r - r.mean()
        half = fmt.n_fft // 2
        p, m = schmidl_cox(r, half)
        plateaus = find_plateaus(m, self.threshold, min_len=max(3, fmt.n_cp // 2),
                                 min_gap=fmt.n_cp)
        out: list[FrameResult] = []
        last_end = -1
        for i1, i2 in plateaus:
            cp_start = 0.5 * (i1 + i2) - 0.5 * fmt.n_cp
            if cp_start < last_end:
                continue  # inside a frame already decoded
            if cp_start + self._body_len + fmt.n_cp >= r.size or cp_start < self.backoff + 1:
                continue  # not completely captured
            eps_f = float(np.angle(np.sum(p[i1:i2 + 1]))) / np.pi
            res = self._demodulate(r, cp_start, eps_f, float(m[i1:i2 + 1].max()))
            if res is None:
                continue
            out.append(res)
            if res.header_ok:
                last_end = res.start + self._body_len - fmt.sym_len
        return out

    # -- one frame --------------------------------------------------------------------------
    def _fft(self, seg: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """FFT windows of length N at integer ``starts`` → [len(starts), N]."""
        idx = starts[:, None] + np.arange(self.fmt.n_fft)[None, :]
        return np.fft.fft(seg[idx], axis=-1, norm="ortho")

    def _demodulate(self, r: np.ndarray, cp_start: float, eps_f: float, metric: float
                    ) -> FrameResult | None:
        fmt = self.fmt
        n_fft, sym = fmt.n_fft, fmt.sym_len
        s0 = int(np.floor(cp_start)) - fmt.n_cp  # one CP of margin for the fine timing
        seg = r[max(s0, 0): s0 + self._body_len + 3 * fmt.n_cp]
        if s0 < 0 or seg.size < self._body_len + 2 * fmt.n_cp:
            return None
        n = np.arange(seg.size)
        c0 = cp_start - s0  # S1 CP start within seg (float)
        # integer CFO on S2 after the fractional correction
        seg_f = seg * np.exp(-2j * np.pi * eps_f * n / n_fft)
        s2_start = int(round(c0 + sym + fmt.n_cp - self.backoff))
        y2 = self._fft(seg_f, np.array([s2_start]))[0]
        shift, _ = integer_cfo(y2, fmt.bins, fmt.s2_freq, self._candidates)
        if abs(eps_f + shift) > self.max_cfo + 1.0:
            return None
        eps = eps_f + shift
        seg_c = seg * np.exp(-2j * np.pi * eps * n / n_fft)
        # fine timing from S2's phase slope (adjacent bins only, DC gap excluded)
        y2 = self._fft(seg_c, np.array([s2_start]))[0][fmt.bins]
        h2 = y2 * np.conj(fmt.s2_freq)
        step = np.diff(fmt.bin_offsets)
        adj = step == 1
        phi = float(np.angle(np.sum(h2[1:][adj] * np.conj(h2[:-1][adj]))))
        body2 = s2_start - phi * n_fft / (2 * np.pi)  # true start of S2's body (float)
        start_body1 = body2 - sym  # S1 body
        cp1 = start_body1 - fmt.n_cp
        # windows of S2, HDR and every slot symbol
        nsyms = 2 + fmt.num_slots * fmt.n_sym
        t_true = body2 + sym * np.arange(nsyms)  # body starts (float)
        w = np.round(t_true - self.backoff).astype(np.int64)
        if w[0] < 0 or w[-1] + n_fft > seg_c.size:
            return None
        ramp = np.exp(2j * np.pi * np.outer(t_true - w, fmt.bin_offsets) / n_fft)
        yf = self._fft(seg_c, w)[:, fmt.bins] * ramp  # [nsyms, F]
        # header with S2's channel
        h2s, _ = _smooth((yf[0] * np.conj(fmt.s2_freq))[None], self._half_win)
        soft = np.real(yf[1] * np.conj(h2s[0])) * fmt.header_scrambler
        acc = np.zeros(HEADER_BITS)
        np.add.at(acc, np.arange(fmt.n_sc) % HEADER_BITS, soft)
        bits = (acc < 0).astype(np.uint8)
        ok = bool(np.array_equal(crc8(bits[:HEADER_INDEX_BITS]), bits[HEADER_INDEX_BITS:]))
        index = int("".join(map(str, bits[:HEADER_INDEX_BITS])), 2) if ok else -1
        # slots
        ys = yf[2:].reshape(fmt.num_slots, fmt.n_sym, fmt.n_sc)
        pil = list(fmt.pilot_symbols)
        ps = sorted(range(len(pil)), key=lambda i: pil[i])
        pil_sorted = [pil[i] for i in ps]
        pconj = self._pilot_conj[ps]
        hp = ys[:, pil_sorted] * pconj  # [S, P, F]
        d_eps = 0.0
        if len(pil_sorted) >= 2:
            dl = pil_sorted[-1] - pil_sorted[0]
            phi_r = float(np.angle(np.sum(hp[:, -1] * np.conj(hp[:, 0]))))
            per_sym = phi_r / dl  # residual phase advance per OFDM symbol
            d_eps = per_sym * n_fft / (2 * np.pi * sym)
            l_glob = 2 + np.arange(fmt.num_slots * fmt.n_sym)
            rot = np.exp(-1j * per_sym * (l_glob - l_glob[0])).reshape(fmt.num_slots, fmt.n_sym)
            ys = ys * rot[..., None]
            hp = ys[:, pil_sorted] * pconj
        # noise variance from the second difference across subcarriers
        d = hp[..., 1:-1] - 0.5 * (hp[..., :-2] + hp[..., 2:])
        no = max(float(np.mean(np.abs(d) ** 2)) / 1.5, 1e-12)
        hs, _ = _smooth(hp, self._half_win)  # [S, P, F]
        h_hat = np.einsum("tp,spf->stf", self._wt, hs)  # [S, T, F]
        err = no * self._err_shape[None]
        g = np.abs(h_hat) ** 2
        g_floor = np.maximum(g, 1e-30)
        x_hat = ys / np.where(g > 0, h_hat, 1.0)
        no_eff = (no + err) / g_floor
        sig = max(float(np.mean(np.abs(hs) ** 2)) - no * float(np.mean(self._err_shape)), 1e-30)
        snr_db = 10 * np.log10(sig / no)
        pe = x_hat[:, pil_sorted] - fmt.pilots[ps][None]
        pilot_evm_db = 10 * np.log10(max(float(np.mean(np.abs(pe) ** 2)), 1e-30))
        eps_tot = eps + d_eps
        return FrameResult(
            index=index, header_ok=ok, start=float(s0 + cp1), cfo_sc=float(eps_tot),
            cfo_hz=float(eps_tot * fmt.scs_hz), snr_db=float(snr_db),
            pilot_evm_db=float(pilot_evm_db), metric=metric,
            y=x_hat.astype(np.complex64), no_eff=no_eff.astype(np.float32), no=no)
