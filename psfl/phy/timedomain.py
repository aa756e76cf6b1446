r"""Time-domain channel: the OFDM waveform through the multipath channel (``phy.domain = "time"``).

The frequency-domain link multiplies each resource element (RE) by the channel's frequency
response; this block instead builds the OFDM waveform and convolves it with the time-varying
channel, so that it models inter-symbol interference (ISI) from delays beyond the cyclic prefix
and inter-carrier interference (ICI) from Doppler (formulas in :mod:`psfl.phy.validity`).

1. The ``num_subcarriers`` occupied subcarriers of a slot are placed around DC of a
   ``fft_size``-point grid (the same baseband frequencies :math:`f_k = (k - \lfloor F/2
   \rfloor)\Delta f` as the frequency-domain link; the other bins are guard bands, zero), and
   Sionna's :class:`~sionna.phy.ofdm.OFDMModulator` adds the ``cp_length``-sample CP (unitary
   IFFT, so an RE of energy 1 gives samples of mean power ``F/N``).
2. The channel's CIR (:meth:`~psfl.phy.channels.ChannelSampler.cir`, the same sampler as the
   frequency domain, large-scale gain included) is turned into discrete taps at the sample
   rate :math:`f_s = N\Delta f`,
   :math:`h[m, \ell] = \sum_p a_p(m)\,\mathrm{sinc}(\ell - \tau_p f_s)` for
   :math:`\ell = \ell_\mathrm{min} \dots \ell_\mathrm{max}` — Sionna's
   :func:`~sionna.phy.channel.cir_to_time_channel`, computed as one matrix product — and
   applied by Sionna's :class:`~sionna.phy.channel.ApplyTimeChannel`. The CIR is evaluated
   every :math:`d` samples and the taps interpolated linearly in between (ours, for speed:
   evaluating every ray at every sample dominated the cost): :math:`d` is the largest step over
   which the Doppler phase advances at most :data:`MAX_PHASE_STEP` = 0.05 rad,
   :math:`2\pi f_D d / f_s \le 0.05`, and at most one OFDM symbol; the amplitude error of
   interpolating :math:`e^{j2\pi f_D t}` linearly is then below :math:`0.05^2/8 = 3\cdot
   10^{-4}` (-70 dB in power), exact for a static channel.
   :math:`\ell_\mathrm{min} = -6` and :math:`\ell_\mathrm{max} = \lceil \tau_\mathrm{max}
   f_s\rceil + 6` with :math:`\tau_\mathrm{max}` the largest delay of a tdl/cdl model, or 3 µs
   for umi/uma/rma (Sionna's :func:`~sionna.phy.channel.time_lag_discrete_time_channel`;
   longer system-level paths are cut).
3. The receiver's FFT window of each OFDM symbol starts right after its CP, in time with the
   first path (delay 0; ours — Sionna's :class:`~sionna.phy.ofdm.OFDMDemodulator` with
   ``l_min`` would start it :math:`|\ell_\mathrm{min}|` samples into the CP and leave only
   ``cp_length - 6`` samples of delay margin). Paths with delays in :math:`[0,
   T_\mathrm{CP}]` are ISI-free; the sinc precursors (:math:`\ell < 0`) of fractional delays
   leak a little of the next symbol. The demodulator (unitary FFT) returns the occupied bins.

**Noise and SNR.** The block returns the noiseless received grid; the link adds
:math:`\mathcal{CN}(0, N_0)` per RE after it, exactly as in the frequency domain. This equals
adding white noise of variance :math:`N_0` to every received sample: the unitary FFT of the
:math:`N` samples of a window is white with the same variance per bin, the CP samples are
discarded and the windows do not overlap. So ``snr_db`` keeps its meaning, :math:`E_s/N_0`
per RE with :math:`E_s = 1`; the CP's extra transmitted energy (factor :math:`1 +
\mathrm{cp}/N`) is, as in the frequency domain, not counted.

**Channel seen by the receiver** (perfect CSI, and ``gain`` of :meth:`UplinkLink.simulate`):
the diagonal of the ICI matrix, i.e. the DFT of the taps averaged over the FFT window,
:math:`H_k = \sum_\ell \bar h[\ell]\,e^{-j2\pi f_k \ell / f_s}` with :math:`\bar h[\ell] =
\frac1N\sum_{m\in\mathrm{window}} h[m,\ell]`. ISI and ICI remain as interference, which the
link adds to ``no_eff``: with perfect CSI the realization's own (output ``i_var``, from its
window-averaged taps), with LS the expected power per subcarrier relative to the channel
power, :attr:`TimeDomainChannel.interference_power` (formulas of :mod:`psfl.phy.validity`,
:func:`~psfl.phy.validity.leakage_matrix` for the ISI of the taps beyond the ISI-free lags
:math:`[0, \mathrm{cp}]` with their cross terms): for tdl/cdl from the taps' expected
correlation :math:`E[h[\ell]h^*[\ell']] = \sum_p P_p\,\mathrm{sinc}(\ell - \tau_p f_s)
\,\mathrm{sinc}(\ell' - \tau_p f_s)`, for umi/uma/rma from the exponential-profile estimate;
plus the Jakes ICI. Both are the values of a middle OFDM symbol: the first and last of a slot
(no neighbour on one side) have less ISI, so the reported ``no_eff`` is slightly pessimistic
there. ``tests/test_phy_timedomain.py`` checks these against the measured error.

awgn and rayleigh have no impulse response (flat, constant over a slot: the frequency domain is
exact for them); :class:`~psfl.phy.PhyConfig` refuses ``domain = "time"`` for them.

The block runs eagerly, in graph mode and under XLA. Its cost grows with the samples per slot
times the taps (``num_ofdm_symbols * (fft_size + cp_length) * (l_max - l_min + 1)`` complex
values per slot and antenna, e.g. 1.9 k × 16 for the default numerology and TDL at 100 ns), and
umi/uma/rma evaluate their rays at every CIR step (every sample when the step is 1).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.channel import ApplyTimeChannel, time_lag_discrete_time_channel
from sionna.phy.ofdm import OFDMDemodulator, OFDMModulator

from .channels import ChannelSampler
from .config import CIR_CHANNELS, PhyConfig
from .validity import (
    ici_per_subcarrier,
    leakage_matrix,
    max_doppler_hz,
    omitted_interference,
)

__all__ = ["TimeDomainChannel", "sinc_taps"]

#: Smallest tap lag (Sionna's value, found small enough for its models).
L_MIN = -6

#: Largest Doppler phase advance [rad] between two evaluations of the CIR.
MAX_PHASE_STEP = 0.05


def sinc_taps(tau: tf.Tensor, sampling_frequency: float, l_min: int, l_max: int) -> tf.Tensor:
    r"""Sinc interpolation weights :math:`g[p, \ell] = \mathrm{sinc}(\ell - \tau_p f_s)` of
    :func:`sionna.phy.channel.cir_to_time_channel`.

    Input
    -----
    tau : [..., num_paths], tf.float32
        Path delays [s].
    sampling_frequency : float
        [Hz]
    l_min, l_max : int
        Smallest and largest tap lag.

    Output
    ------
    g : [..., num_paths, l_max - l_min + 1], tf.float32
    """
    lags = tf.range(l_min, l_max + 1, dtype=tf.float32)
    x = np.pi * (lags - tau[..., None] * sampling_frequency)
    small = tf.abs(x) < 1e-6
    safe = tf.where(small, tf.ones_like(x), x)
    return tf.where(small, tf.ones_like(x), tf.sin(safe) / safe)


class TimeDomainChannel(Block):
    r"""OFDM modulation, time-varying multipath channel, CP removal and FFT for a batch of
    slots (see module docstring).

    Parameters
    ----------
    cfg : PhyConfig
        Numerology (``fft_size``, ``cp_length``, ``num_subcarriers``, ``scs_hz``,
        ``num_ofdm_symbols``) and a channel with an impulse response.
    sampler : ChannelSampler
        Draws the CIRs (built for ``cfg``).

    Input
    -----
    x : [num_slots, num_ofdm_symbols, num_subcarriers], tf.complex64
        Transmitted grids (data and pilots on the occupied subcarriers).

    Output
    ------
    y : [num_slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
        Received grids after CP removal and FFT, without noise.
    h : [num_slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
        Channel of every RE: the window-averaged frequency response (ICI-matrix diagonal).
    i_var : [num_slots, num_rx_ant, 1, num_subcarriers], tf.float32
        ISI + ICI power of each realization per subcarrier (middle OFDM symbols): its
        window-averaged tap powers through the kernels of :mod:`psfl.phy.validity`.
    """

    def __init__(self, cfg: PhyConfig, sampler: ChannelSampler):
        super().__init__(precision="single")
        if cfg.channel not in CIR_CHANNELS:
            raise ValueError(f"the time-domain link needs a channel with an impulse response "
                             f"({', '.join(CIR_CHANNELS)}), got {cfg.channel!r}")
        self.cfg, self.sampler = cfg, sampler
        n, cp, nsc, nsym = cfg.fft_size, cfg.cp_length, cfg.num_subcarriers, cfg.num_ofdm_symbols
        self.sampling_frequency = n * cfg.scs_hz
        delays = sampler.path_delays_s
        if delays is None:
            self.l_min, self.l_max = (int(v) for v in
                                      time_lag_discrete_time_channel(self.sampling_frequency))
        else:
            self.l_min = L_MIN
            self.l_max = int(math.ceil(float(np.max(delays)) * self.sampling_frequency)) + 6
        self.num_taps = self.l_max - self.l_min + 1
        self.num_samples = nsym * (n + cp)
        # CIR evaluated every `step` samples, taps interpolated linearly (module docstring).
        fd = max_doppler_hz(cfg)
        limit = MAX_PHASE_STEP * self.sampling_frequency / (2 * np.pi * fd) if fd else n + cp
        self.cir_step = int(max(1, min(n + cp, math.floor(limit))))
        num_out = self.num_samples + self.num_taps - 1
        self._num_cir = -(-(num_out - 1) // self.cir_step) + 1
        m = np.arange(num_out)
        j = np.minimum(m // self.cir_step, self._num_cir - 2)
        self._interp_index = tf.constant(j.astype(np.int32))
        frac = ((m - j * self.cir_step) / self.cir_step).astype(np.float32)
        self._interp_frac = tf.constant(frac.astype(np.complex64)[:, None])  # [M, 1]
        self._start = n // 2 - nsc // 2  # first occupied bin (DC at n // 2)
        self._modulator = OFDMModulator(cp, precision="single")
        self._apply = ApplyTimeChannel(self.num_samples, self.num_taps, precision="single")
        self._demodulator = OFDMDemodulator(n, 0, cp, precision="single")
        # Output sample m of the convolution is true time m + l_min; the windows start after
        # each CP in true time: rows of the taps averaged for the channel seen, [T, N].
        win = (np.arange(nsym)[:, None] * (n + cp) + cp + np.arange(n)[None, :] - self.l_min)
        self._window_rows = tf.constant(win.astype(np.int32))
        # DFT of the taps at the occupied subcarriers: tap l has delay (l + l_min) samples.
        k = np.arange(nsc) - nsc // 2
        lag = np.arange(self.l_min, self.l_max + 1)
        self._tap_dft = tf.constant(np.exp(-2j * np.pi * np.outer(lag, k) / n)
                                    .astype(np.complex64))  # [L, F]
        # ISI/ICI kernels (psfl.phy.validity): leaking taps' quadratic form [F, B, B] and ICI
        # per unit power [F].
        bins = k % n
        which, c = leakage_matrix(lag, cp, n, bins)
        ici = ici_per_subcarrier(max_doppler_hz(cfg) / cfg.scs_hz, n, bins)
        nb = which.size
        self._leaking = tf.constant(which.astype(np.int32))
        # Re(sum_ab R_ab C_fab) = [Re R, Im R] . [Re C, -Im C]: one real matmul, [2 B^2, F].
        cm = np.transpose(c, (1, 2, 0)).reshape(nb * nb, -1)
        self._leakage = tf.constant(np.concatenate([cm.real, -cm.imag]).astype(np.float32))
        self._ici = tf.constant(ici.astype(np.float32))
        if delays is None:
            interference = ici + omitted_interference(cfg)[0]
        else:
            g = np.sinc(lag[None, which] - delays[:, None] * self.sampling_frequency)  # [P, B]
            r = (sampler.path_powers[:, None, None] * g[:, :, None] * g[:, None, :]).sum(0)
            interference = ici + np.real(np.einsum("ab,fab->f", r, c))
        self._interference = tf.constant(interference.astype(np.float32))

    @property
    def interference_power(self) -> tf.Tensor:
        """[num_subcarriers] tf.float32: expected ISI + ICI power per subcarrier relative to
        the channel power (middle OFDM symbols of a slot; module docstring)."""
        return self._interference

    def taps(self, num_slots) -> tf.Tensor:
        r"""Draw the discrete-time taps of ``num_slots`` independent realizations.

        Input
        -----
        num_slots : int or scalar tf.int32

        Output
        ------
        h_time : [num_slots, num_rx_ant, num_samples + num_taps - 1, num_taps], tf.complex64
            Taps :math:`h[m, \ell]` applied at convolution output sample ``m`` (true time
            ``m + l_min``), lag ``l_min + column``.
        """
        a, tau = self.sampler.cir(num_slots, self._num_cir,
                                  self.sampling_frequency / self.cir_step)
        a = tf.transpose(a[:, 0, :, 0, 0], [0, 1, 3, 2])  # [n, R, M_cir, P]
        g = sinc_taps(tau[:, 0, 0], self.sampling_frequency, self.l_min, self.l_max)  # [n,P,L]
        g = tf.complex(g, tf.zeros_like(g))[:, None]  # [n, 1, P, L]
        h = tf.linalg.matmul(a, g)  # [n, R, M_cir, L]
        lo = tf.gather(h, self._interp_index, axis=2)
        hi = tf.gather(h, self._interp_index + 1, axis=2)
        return lo + self._interp_frac * (hi - lo)

    def call(self, x):
        cfg = self.cfg
        n, nsc = cfg.fft_size, cfg.num_subcarriers
        num_slots = tf.shape(x)[0]
        grid = tf.pad(x, [[0, 0], [0, 0], [self._start, n - self._start - nsc]])
        s = self._modulator(grid)  # [n_slots, num_samples]
        h_time = self.taps(num_slots)  # [n_slots, R, M, L]
        y = self._apply(s[:, None, None], h_time[:, None, :, None, None])  # [n_slots,1,R,M]
        y = y[:, 0, :, -self.l_min:-self.l_min + self.num_samples]
        y = self._demodulator(y)[..., self._start:self._start + nsc]  # [n_slots, R, T, F]
        h_bar = tf.reduce_mean(tf.gather(h_time, self._window_rows, axis=2), axis=3)
        h = tf.linalg.matmul(h_bar, self._tap_dft)  # [n_slots, R, T, F]
        # This realization's ISI + ICI: its leaking taps' correlation (averaged over the slot)
        # through the quadratic form, its power through the ICI kernel.
        power = tf.reduce_sum(tf.reduce_mean(tf.math.real(h_bar) ** 2
                                             + tf.math.imag(h_bar) ** 2, axis=2), axis=-1)
        i_var = power[..., None] * self._ici  # [n_slots, R, F]
        if self._leaking.shape[0]:
            hb = tf.gather(h_bar, self._leaking, axis=3)  # [n_slots, R, T, B]
            r = tf.reduce_mean(hb[..., :, None] * tf.math.conj(hb[..., None, :]), axis=2)
            r = tf.reshape(r, [num_slots, cfg.num_rx_ant, -1])  # [n_slots, R, B*B]
            i_var += tf.linalg.matmul(tf.concat([tf.math.real(r), tf.math.imag(r)], -1),
                                      self._leakage)
        return y, h, i_var[:, :, None, :]
