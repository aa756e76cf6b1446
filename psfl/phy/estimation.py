r"""Channel estimation (LS at the pilots with interpolation) and single-stream combining.

LS estimate at a pilot RE: :math:`\hat h = y\,p^*` (unit-modulus pilots), error variance
:math:`N_0`. The pilot estimates are averaged over ``ls_freq_window`` adjacent subcarriers
(the set :math:`J_f`, :math:`w_f = |J_f|` subcarriers, fewer at the band edges), then
interpolated linearly in time between pilot OFDM symbols and held constant before the first
and after the last. The reported error variance at the RE of OFDM symbol :math:`t` and
subcarrier :math:`f` is

.. math::
    \sigma^2_{e}(t, f) = N_0\,\frac{\sum_p W_{tp}^2}{w_f} + \hat P\,c_{tf},\qquad
    c_{tf} = 1 - 2 A_t a_f + B_t b_f,

    A_t = \sum_p W_{tp}\,\rho_t(t-p),\quad B_t = \sum_{p,q} W_{tp}W_{tq}\,\rho_t(p-q),\quad
    a_f = \frac{1}{w_f}\sum_{j\in J_f}\mathrm{Re}\,\rho_f(j-f),\quad
    b_f = \frac{1}{w_f^2}\sum_{j,j'\in J_f}\mathrm{Re}\,\rho_f(j-j'),

with :math:`W` the time-interpolation weights, :math:`\rho_t(k) = J_0(2\pi f_D\,k\,T_s)` the
Clarke/Jakes time correlation between OFDM symbols :math:`k` apart (:math:`f_D = v f_c/c`
the maximum Doppler shift, :math:`T_s` the OFDM symbol duration with its CP) and
:math:`\rho_f(\Delta) = \sum_m P_m e^{-j2\pi\Delta\,\Delta f\,\tau_m}` the frequency
correlation of the power-delay profile. The first term is the noise passed by averaging and
interpolation; the second is :math:`E|\hat h_{tf} - h_{tf}|^2` of the noiseless estimate of a
channel of power :math:`P` with the separable correlation :math:`P\rho_t\rho_f`: the error of
interpolating linearly a channel that changes within the slot (Doppler) and the bias of
averaging a channel that changes across the window (delay spread). Jakes' :math:`\rho_t` is
the model of the TDL taps (uniform angles of arrival); for CDL and umi/uma/rma, whose rays
have set angles, and for LoS components it is the standard approximation. :math:`\rho_f` is
the model's own profile for tdl/cdl; for umi/uma/rma, whose delays are random, the
exponential profile of :func:`psfl.phy.validity.nominal_delay_spread_s` (ours).
:math:`\hat P` is the channel power of the slot at the antenna, estimated from the pilots as
:math:`\max(\overline{|y_p p^*|^2} - N_0, 0)` over all pilot REs (ours: the slot's power
rather than the model's mean, so that the variance follows the fade and the path loss).
Without Doppler and frequency averaging (:math:`A_t = B_t = a_f = b_f = 1`) the second term
vanishes.

Combining for one transmit stream over :math:`R` receive antennas, with per-antenna
impairment :math:`s_r = N_0 + \sigma^2_{e,r}` (noise plus channel-estimation error):

.. math::
    a = \sum_r \frac{|\hat h_r|^2}{s_r},\qquad
    \hat x = \frac{1}{a}\sum_r \frac{\hat h_r^* y_r}{s_r},\qquad
    N_{0,\mathrm{eff}} = \frac{1}{a}.

This is exactly Sionna's :func:`~sionna.phy.mimo.lmmse_equalizer` (LMMSE filter, then the
bias removed, ``no_eff = 1/diag(GH) - 1``) specialised to one stream, in closed form instead
of a matrix inversion per RE. ``mrc`` weights the antennas by :math:`\hat h_r^*` alone
(ignoring the estimation error in the weights) and reports
:math:`N_{0,\mathrm{eff}} = \sum_r |\hat h_r|^2 s_r / (\sum_r|\hat h_r|^2)^2`; with perfect
CSI both coincide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf
from scipy.special import j0

from .config import EQUALIZERS

__all__ = ["COMBINERS", "LSEstimator", "combine", "interpolation_error_shape",
           "time_interpolation_weights", "window_counts"]


def time_interpolation_weights(num_ofdm_symbols: int, pilot_symbols: tuple[int, ...]) -> np.ndarray:
    """[num_ofdm_symbols, num_pilot_symbols] weights of linear interpolation between pilot
    symbols, constant extrapolation outside them."""
    p = np.asarray(sorted(pilot_symbols), dtype=np.float64)
    w = np.zeros((num_ofdm_symbols, p.size))
    for t in range(num_ofdm_symbols):
        if t <= p[0]:
            w[t, 0] = 1.0
        elif t >= p[-1]:
            w[t, -1] = 1.0
        else:
            j = int(np.searchsorted(p, t, side="right")) - 1
            frac = (t - p[j]) / (p[j + 1] - p[j])
            w[t, j], w[t, j + 1] = 1.0 - frac, frac
    return w


def interpolation_error_shape(
    weights: np.ndarray, pilot_symbols: tuple[int, ...], max_doppler_hz: float,
    symbol_duration_s: float, freq_window: int = 1, num_subcarriers: int = 1,
    freq_correlation: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    r"""[num_ofdm_symbols, num_subcarriers] factors :math:`c_{tf}` of the noiseless
    estimation error (module docstring): the error variance of averaging over ``freq_window``
    subcarriers and interpolating in time with ``weights`` a unit-power channel whose
    correlation is :math:`J_0(2\pi f_D k T_s)` between OFDM symbols :math:`k` apart and
    ``freq_correlation(delta)`` (complex, default 1) between subcarriers ``delta`` apart."""
    p = np.asarray(sorted(pilot_symbols), dtype=np.float64)
    t = np.arange(weights.shape[0], dtype=np.float64)
    x = 2.0 * np.pi * max_doppler_hz * symbol_duration_s
    a_t = np.sum(weights * j0(x * (t[:, None] - p[None, :])), axis=1)  # [T]
    b_t = np.einsum("tp,pq,tq->t", weights, j0(x * (p[:, None] - p[None, :])), weights)
    half = freq_window // 2
    a_f, b_f = np.ones(num_subcarriers), np.ones(num_subcarriers)
    if freq_correlation is not None and half:
        for f in range(num_subcarriers):
            j = np.arange(max(f - half, 0), min(f + half, num_subcarriers - 1) + 1)
            a_f[f] = np.mean(np.real(freq_correlation(j - f)))
            b_f[f] = np.mean(np.real(freq_correlation(j[:, None] - j[None, :])))
    c = 1.0 - 2.0 * a_t[:, None] * a_f[None, :] + b_t[:, None] * b_f[None, :]
    return np.maximum(c, 0.0)


def window_counts(n: int, half: int) -> np.ndarray:
    """How many of ``n`` subcarriers a window of ``2*half+1`` adjacent ones covers around each
    subcarrier (fewer at the band edges): the divisor of a frequency-smoothed estimate."""
    f = np.arange(n)
    return (np.minimum(f + half, n - 1) - np.maximum(f - half, 0) + 1).astype(np.float64)


class LSEstimator:
    r"""Least-squares estimator at pilot OFDM symbols with frequency averaging and linear
    time interpolation (see module docstring for the error model).

    Parameters
    ----------
    pilots : [num_pilot_symbols, num_subcarriers], tf.complex64
        Unit-modulus pilot values.
    pilot_symbols : tuple of int
        OFDM symbols carrying the pilots (same order as ``pilots``' rows).
    num_ofdm_symbols : int
        OFDM symbols per slot.
    freq_window : int
        Odd number of adjacent subcarriers averaged.
    max_doppler_hz : float
        Maximum Doppler shift :math:`f_D` of the channel [Hz] (0: constant over the slot).
    symbol_duration_s : float
        OFDM symbol duration with CP :math:`T_s` [s] (needed when ``max_doppler_hz > 0``).
    freq_correlation : None (default) | callable
        :math:`\rho_f`: integer subcarrier offsets (numpy array) to the channel's complex
        frequency correlation; None treats the channel as flat across the window.

    Input
    -----
    y : [batch, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
        Received grid.
    no : [batch], tf.float32
        Noise variance per RE.

    Output
    ------
    h_hat : [batch, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
        Channel estimate on every RE.
    err_var : [batch, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.float32
        Estimation error variance per RE (noise and time interpolation).
    """

    def __init__(self, pilots: tf.Tensor, pilot_symbols: tuple[int, ...],
                 num_ofdm_symbols: int, freq_window: int, max_doppler_hz: float = 0.0,
                 symbol_duration_s: float = 0.0,
                 freq_correlation: Callable[[np.ndarray], np.ndarray] | None = None):
        order = np.argsort(pilot_symbols)
        self._rows = tf.constant(np.asarray(pilot_symbols)[order].astype(np.int32))
        self._conj_pilots = tf.math.conj(tf.gather(pilots, order))
        w = time_interpolation_weights(num_ofdm_symbols, tuple(pilot_symbols))
        self._w = tf.constant(w.astype(np.complex64))
        self._half = freq_window // 2
        nsc = int(pilots.shape[-1])
        count = window_counts(nsc, self._half)
        self._count = tf.constant(count.astype(np.float32))
        self._err_shape = tf.constant(
            ((w**2).sum(1)[:, None] / count[None, :]).astype(np.float32))  # [T, F]
        c = interpolation_error_shape(w, tuple(pilot_symbols), max_doppler_hz,
                                      symbol_duration_s, freq_window, nsc, freq_correlation)
        self._interp_shape = tf.constant(c.astype(np.float32))  # [T, F]
        self._doppler = bool(np.any(c > 0))

    def __call__(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        h_ls = tf.gather(y, self._rows, axis=2) * self._conj_pilots  # [b, r, P, F]
        err_var = no[:, None, None, None] * self._err_shape
        if self._doppler:
            p_hat = tf.reduce_mean(tf.math.real(h_ls) ** 2 + tf.math.imag(h_ls) ** 2,
                                   axis=[2, 3], keepdims=True)  # [b, r, 1, 1]
            p_hat = tf.maximum(p_hat - no[:, None, None, None], 0.0)
            err_var = err_var + p_hat * self._interp_shape
        if self._half:
            # A sum of shifted slices: the window is short, and complex cumsum has no XLA kernel.
            hw, nsc = self._half, h_ls.shape[-1]
            padded = tf.pad(h_ls, [[0, 0], [0, 0], [0, 0], [hw, hw]])
            h_ls = tf.add_n([padded[..., j:j + nsc] for j in range(2 * hw + 1)]) / tf.complex(
                self._count, tf.zeros_like(self._count))
        # A broadcast sum over the few pilot symbols rather than a matmul: XLA fuses it into
        # the combiner, so the interpolated grid is never written to memory.
        h_hat = tf.reduce_sum(self._w[:, :, None] * h_ls[:, :, None], axis=3)  # [b, r, T, F]
        return h_hat, err_var


#: A tiny floor keeps 1/a finite on an exactly-zero channel (deep fade, zero padding).
_TINY = 1e-30


def _lmmse(y: tf.Tensor, h_hat: tf.Tensor, g: tf.Tensor, s: tf.Tensor
           ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    a = tf.reduce_sum(g / s, axis=1)
    num = tf.reduce_sum(tf.math.conj(h_hat) * y / tf.complex(s, tf.zeros_like(s)), axis=1)
    a = tf.maximum(a, _TINY)
    return a, num, 1.0 / a


def _mrc(y: tf.Tensor, h_hat: tf.Tensor, g: tf.Tensor, s: tf.Tensor
         ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    a = tf.maximum(tf.reduce_sum(g, axis=1), _TINY)
    num = tf.reduce_sum(tf.math.conj(h_hat) * y, axis=1)
    return a, num, tf.reduce_sum(g * s, axis=1) / a**2


#: Combining over several receive antennas, by ``phy.equalizer`` name (its choices,
#: :data:`psfl.phy.config.EQUALIZERS`, are these keys): ``(y, h_hat, |h_hat|², s) -> (a,
#: Σ w* y, no_eff)``, the estimate being ``Σ w* y / a`` (module docstring).
COMBINERS = {"lmmse": _lmmse, "mrc": _mrc}


def combine(y: tf.Tensor, h_hat: tf.Tensor, no: tf.Tensor, err_var: tf.Tensor | float = 0.0,
            method: str = "lmmse") -> tuple[tf.Tensor, tf.Tensor]:
    r"""Equalize and combine one stream over the receive antennas (formulas in the module
    docstring).

    Input
    -----
    y : [batch, num_rx_ant, T, F], tf.complex64
        Received grid.
    h_hat : broadcastable to ``y``, tf.complex64
        Channel (estimate).
    no : [batch], tf.float32
        Noise variance per RE.
    err_var : broadcastable to ``y``, tf.float32, or 0.0
        Channel-estimation error variance per RE.
    method : "lmmse" | "mrc"
        One of :data:`COMBINERS`.

    Output
    ------
    x_hat : [batch, T, F], tf.complex64
        Unbiased symbol estimates.
    no_eff : [batch, T, F], tf.float32
        Post-equalization noise variance.
    """
    if method not in COMBINERS:
        raise ValueError(f"unknown equalizer {method!r}; choose one of {', '.join(EQUALIZERS)}")
    s = no[:, None, None, None] + err_var
    g = tf.math.real(h_hat) ** 2 + tf.math.imag(h_hat) ** 2
    if y.shape[1] == 1:
        # One antenna: every combiner reduces to zero forcing, x = h* y / |h|^2 and
        # N0_eff = s / |h|^2; s cancels from the estimate, which saves a complex division per RE.
        g = tf.maximum(g[:, 0], _TINY)
        x_hat = tf.math.conj(h_hat[:, 0]) * y[:, 0] / tf.complex(g, tf.zeros_like(g))
        return x_hat, s[:, 0] / g
    a, num, no_eff = COMBINERS[method](y, h_hat, g, s)
    x_hat = num / tf.complex(a, tf.zeros_like(a))
    return x_hat, no_eff
