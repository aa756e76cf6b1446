r"""Where the frequency-domain link is valid: interference it leaves out, and a warning.

The frequency-domain link multiplies each resource element by the channel's frequency
response at the start of its OFDM symbol. It omits two kinds of interference that the OFDM
waveform suffers, both as powers relative to the received signal power (the time-domain link,
``phy.domain = "time"``, models both; ``tests/test_phy_timedomain.py`` checks it against the
formulas below):

**ISI** from paths delayed beyond the cyclic prefix. A path of power :math:`P_m` and delay
:math:`\tau_m > T_\mathrm{CP}` puts the excess :math:`e_m = \tau_m - T_\mathrm{CP}` of each
FFT window onto the previous OFDM symbol; with the receiver's channel taken as the DFT of the
impulse response, the error it causes is, averaged over the subcarriers of a fully occupied
band,

.. math::
    P_\mathrm{ISI} = \sum_m P_m \frac{2\,\max(0, \tau_m - T_\mathrm{CP})}{T}

(half from the other symbol's samples, half from the missing cyclic part of this one;
:math:`T = 1/\Delta f` the useful symbol duration). With guard bands part of it falls outside
the occupied band, so it is an upper estimate there. For tdl/cdl the power-delay profile is
the model's. For umi/uma/rma, whose delays are random, an exponential profile with the TR
38.901 median NLoS delay spread :math:`\mathrm{DS} = 10^{\mu_\mathrm{lgDS}}` (Table 7.5-6)
is used (ours), for which the sum is :math:`2\,\mathrm{DS}\,e^{-T_\mathrm{CP}/\mathrm{DS}}/T`.

**ICI** from Doppler. For Clarke/Jakes fading with maximum Doppler :math:`f_D` and the
receiver's channel taken as the time average over the FFT window (the diagonal of the ICI
matrix), the ICI power on a fully occupied band is

.. math::
    P_\mathrm{ICI} = 1 - \int_{-1}^{1} (1-|x|)\, J_0(2\pi f_D T x)\,dx
        \approx \frac{(\pi f_D T)^2}{6}\quad (f_D T \ll 1),

(Li & Cimini 2001; Russell & Stüber 1995 give the bound :math:`(\pi f_D T)^2/3` valid for any
Doppler spectrum of maximum :math:`f_D`, twice the Jakes value). :math:`f_D = v f_c/c`.

**Per subcarrier, with guard bands** (used by the time-domain link for its ``no_eff``). With
only the bins :math:`K` of the :math:`N` occupied, the error of a tap with excess :math:`e`
samples at bin :math:`k_0` is :math:`\frac{2}{N^2}\sum_{k\in K} D_e(k-k_0)^2`,
:math:`D_e(\Delta) = |\sum_{p<e} e^{j2\pi\Delta p/N}|` (the window's wrong samples, a short
rectangle, spread over neighbouring bins; Parseval gives :math:`2e/N` for :math:`K` = all), and
the ICI is :math:`\sum_{k\in K,k\ne k_0} c(k-k_0)`, :math:`c(\Delta) = N^{-2}\sum_{d}(N-|d|)
J_0(2\pi f_D T d/N)\cos(2\pi\Delta d/N)`. With guard bands the samples of the
band-limited signal are correlated, so taps of one path (a fractional delay spreads over
several sinc taps) add coherently: :func:`leakage_matrix` keeps these cross terms. Both are
exact in expectation over the data for a middle OFDM symbol (the first and last of a slot have
no neighbour on one side: less ISI).

**Rule (ours).** :func:`check_frequency_domain` warns with
:class:`FrequencyDomainValidityWarning` when :math:`P_\mathrm{ISI} + P_\mathrm{ICI}`
exceeds :data:`INTERFERENCE_LIMIT_DB` = -25 dB: the frequency-domain results then overstate
the post-equalization SINR by more than about 1 dB at 20 dB SNR (and cap it near 25 dB). The
warning names the fixes: ``phy.domain = "time"``, a longer ``cp_length`` (ISI) or a larger
``scs_hz`` (ICI).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.special import j0

from .budget import SPEED_OF_LIGHT
from .config import CIR_CHANNELS, PATHLOSS_CHANNELS, PhyConfig

__all__ = [
    "INTERFERENCE_LIMIT_DB",
    "FrequencyDomainValidityWarning",
    "check_frequency_domain",
    "frequency_correlation",
    "ici_per_subcarrier",
    "ici_power_jakes",
    "isi_power",
    "leakage_matrix",
    "leakage_per_subcarrier",
    "max_doppler_hz",
    "nominal_delay_spread_s",
    "omitted_interference",
]

#: Omitted ISI + ICI power (relative to the signal) above which the frequency-domain link
#: warns [dB].
INTERFERENCE_LIMIT_DB = -25.0

#: TR 38.901 Table 7.5-6, NLoS lgDS = a log10(b + f_GHz) + c (UMa: f >= 6 GHz).
_LGDS_NLOS = {"umi": (-0.24, 1.0, -6.83), "uma": (-0.204, 0.0, -6.28), "rma": (0.0, 0.0, -7.43)}


class FrequencyDomainValidityWarning(UserWarning):
    """The frequency-domain link is used where it omits noticeable ISI or ICI."""


def max_doppler_hz(cfg: PhyConfig) -> float:
    """Maximum Doppler shift :math:`f_D = v f_c / c` [Hz] of the channel; 0 for awgn and
    rayleigh (constant over a slot)."""
    if cfg.channel not in CIR_CHANNELS:
        return 0.0
    return cfg.speed_mps * cfg.carrier_hz / SPEED_OF_LIGHT


def ici_power_jakes(fd_t: float, num_samples: int | None = None) -> float:
    r"""ICI power :math:`P_\mathrm{ICI}` of Jakes fading (module docstring) for the
    normalized Doppler :math:`f_D T`; with ``num_samples`` = N the exact discrete form
    :math:`1 - N^{-2}\sum_{n,m} J_0(2\pi f_D T (n-m)/N)`."""
    if fd_t <= 0.0:
        return 0.0
    if num_samples is None:
        x = np.linspace(-1.0, 1.0, 4001)
        f = (1.0 - np.abs(x)) * j0(2.0 * np.pi * fd_t * x)
        return float(1.0 - np.sum((f[1:] + f[:-1]) * np.diff(x)) / 2.0)
    n = int(num_samples)
    k = np.arange(-(n - 1), n)
    return float(1.0 - np.sum((n - np.abs(k)) * j0(2.0 * np.pi * fd_t * k / n)) / n**2)


def isi_power(delays_s: np.ndarray, powers: np.ndarray, cp_s: float, useful_s: float
              ) -> float:
    r""":math:`P_\mathrm{ISI} = \sum_m P_m\,2\max(0, \tau_m - T_\mathrm{CP})/T` (module
    docstring); ``powers`` are normalized to sum one."""
    p = np.asarray(powers, np.float64)
    excess = np.maximum(np.asarray(delays_s, np.float64) - cp_s, 0.0)
    return float(np.sum(p * 2.0 * np.minimum(excess, useful_s) / useful_s) / p.sum())


def _circular_sum(kernel: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """[len(bins)]: sum over k in bins of kernel[(k - k0) mod N] for each k0 in bins."""
    n = kernel.size
    return kernel[(bins[None, :] - bins[:, None]) % n].sum(axis=1)


def leakage_per_subcarrier(excess: int, n: int, bins: np.ndarray) -> np.ndarray:
    r"""[len(bins)] error power at each occupied bin from a unit-power tap whose delay
    leaves ``excess`` samples of the FFT window on a neighbouring symbol:
    :math:`\frac{2}{N^2}\sum_{k\in K} D_e(k-k_0)^2` (module docstring)."""
    e = int(min(max(excess, 0), n))
    if e == 0:
        return np.zeros(len(bins))
    d2 = np.abs(np.fft.fft(np.ones(e), n)) ** 2  # D_e(delta)^2, delta = 0..N-1
    return 2.0 * _circular_sum(d2, np.asarray(bins)) / n**2


def leakage_matrix(lags: np.ndarray, cp: int, n: int, bins: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    r"""ISI of a tap vector, cross-terms included: taps ``l`` with
    :math:`\ell > \mathrm{cp}` read the previous symbol in the first :math:`\ell -
    \mathrm{cp}` window samples, taps :math:`\ell < 0` the next one in the last
    :math:`|\ell|`; with :math:`S_\ell(\Delta) = \sum_{p\in P_\ell} e^{j2\pi\Delta p/N}` over
    those positions, the error power at bin :math:`k_0` is :math:`\sum_{\ell,\ell'} h_\ell
    h^*_{\ell'} C_{\ell\ell'}(k_0)`,

    .. math::
        C_{\ell\ell'}(k_0) = \frac{m_{\ell\ell'}}{N^2}\sum_{k\in K}
            e^{-j2\pi k(\ell-\ell')/N} S_\ell(k-k_0) S^*_{\ell'}(k-k_0),

    :math:`m = 2` when both read the same neighbour, else 1 (the missing cyclic samples of
    the current symbol); its diagonal is :func:`leakage_per_subcarrier`. Exact in expectation
    over i.i.d. unit-power data on a middle symbol; with guard bands the band-limited samples
    are correlated and the cross terms matter.

    Output
    ------
    which : [num_leaking] int, indices into ``lags`` of the taps that leak.
    c : [len(bins), num_leaking, num_leaking] complex128.
    """
    lags = np.asarray(lags)
    bins = np.asarray(bins)
    which = np.flatnonzero((lags > cp) | (lags < 0))
    side = np.sign(lags[which])
    s_l = np.zeros((which.size, n), np.complex128)
    for i, lag in enumerate(lags[which]):
        ind = np.zeros(n)
        e = int(min(lag - cp if lag > cp else -lag, n))
        if lag > cp:
            ind[:e] = 1.0
        else:
            ind[n - e:] = 1.0
        s_l[i] = n * np.fft.ifft(ind)  # S(delta) = sum_p ind[p] e^{+j 2 pi delta p / N}
    delta = (bins[None, :] - bins[:, None]) % n  # [k0, k]
    g = (np.exp(-2j * np.pi * np.outer(lags[which], bins) / n)[:, None, :]
         * s_l[:, delta])  # [a, k0, k]
    mult = np.where(side[:, None] == side[None, :], 2.0, 1.0)
    c = np.einsum("akf,bkf->kab", g, g.conj()) * mult / n**2
    return which, c


def ici_per_subcarrier(fd_t: float, n: int, bins: np.ndarray) -> np.ndarray:
    r"""[len(bins)] Jakes ICI power at each occupied bin, relative to the channel power,
    from the other occupied bins (module docstring); sums to :func:`ici_power_jakes` per bin
    when all N bins are occupied."""
    if fd_t <= 0.0:
        return np.zeros(len(bins))
    d = np.arange(-(n - 1), n)
    w = (n - np.abs(d)) * j0(2.0 * np.pi * fd_t * d / n) / n**2
    c = np.array([np.sum(w * np.cos(2.0 * np.pi * k * d / n)) for k in range(n)])
    return _circular_sum(c, np.asarray(bins)) - c[0]


def nominal_delay_spread_s(cfg: PhyConfig) -> float:
    """Median NLoS rms delay spread [s] of umi/uma/rma at ``cfg.carrier_hz`` (TR 38.901
    Table 7.5-6), the exponential profile's spread used where the delays are random."""
    a, b, c = _LGDS_NLOS[cfg.channel]
    f_ghz = cfg.carrier_hz / 1e9
    if cfg.channel == "uma":
        f_ghz = max(f_ghz, 6.0)
    return 10.0 ** (a * math.log10(b + f_ghz) + c)


def frequency_correlation(cfg: PhyConfig, delays_s: np.ndarray | None = None,
                          powers: np.ndarray | None = None
                          ) -> Callable[[np.ndarray], np.ndarray] | None:
    r""":math:`\rho_f(\Delta) = \sum_m P_m e^{-j2\pi\Delta\,\Delta f\,\tau_m}` of the
    power-delay profile (tdl/cdl: ``delays_s``, ``powers``), or of the exponential profile
    :math:`1/(1 + j2\pi\Delta\,\Delta f\,\mathrm{DS})` for umi/uma/rma; None for flat
    channels."""
    scs = cfg.scs_hz
    if cfg.channel in PATHLOSS_CHANNELS:
        ds = nominal_delay_spread_s(cfg)
        return lambda d: 1.0 / (1.0 + 2j * np.pi * np.asarray(d) * scs * ds)
    if delays_s is None or powers is None:
        return None
    tau = np.asarray(delays_s, np.float64)
    p = np.asarray(powers, np.float64) / np.sum(powers)
    return lambda d: np.exp(-2j * np.pi * np.asarray(d)[..., None] * scs * tau) @ p


def omitted_interference(cfg: PhyConfig, delays_s: np.ndarray | None = None,
                         powers: np.ndarray | None = None) -> tuple[float, float]:
    r"""(:math:`P_\mathrm{ISI}`, :math:`P_\mathrm{ICI}`) the frequency-domain link omits for
    ``cfg``, relative to the signal power. ``delays_s``/``powers``: the power-delay profile
    of a tdl/cdl model (:attr:`~psfl.phy.channels.ChannelSampler.path_delays_s`); umi/uma/rma
    use the exponential profile of the module docstring; awgn and rayleigh have neither."""
    useful = 1.0 / cfg.scs_hz
    cp = cfg.cp_length / (cfg.fft_size * cfg.scs_hz)
    isi = 0.0
    if cfg.channel in PATHLOSS_CHANNELS:
        ds = nominal_delay_spread_s(cfg)
        isi = 2.0 * ds * math.exp(-cp / ds) / useful
    elif delays_s is not None and powers is not None:
        isi = isi_power(delays_s, powers, cp, useful)
    ici = ici_power_jakes(max_doppler_hz(cfg) * useful)
    return isi, ici


def check_frequency_domain(cfg: PhyConfig, delays_s: np.ndarray | None = None,
                           powers: np.ndarray | None = None, stacklevel: int = 3) -> bool:
    """Warn (:class:`FrequencyDomainValidityWarning`) if the frequency-domain link omits more
    interference than :data:`INTERFERENCE_LIMIT_DB`; returns True if it warned. Nothing is
    checked for ``phy.domain = "time"``."""
    if cfg.domain != "frequency":
        return False
    isi, ici = omitted_interference(cfg, delays_s, powers)
    total = isi + ici
    if total <= 10.0 ** (INTERFERENCE_LIMIT_DB / 10.0):
        return False

    def db(v: float) -> str:
        return f"{10 * math.log10(v):.1f} dB" if v > 0 else "none"

    fixes = ['set phy.domain = "time" to simulate it']
    if isi > 0.1 * total:
        fixes.append(f"a longer phy.cp_length (now {cfg.cp_length} samples = "
                     f"{1e6 * cfg.cp_length / (cfg.fft_size * cfg.scs_hz):.2f} us)")
    if ici > 0.1 * total:
        fixes.append(f"a larger phy.scs_hz (now {cfg.scs_hz / 1e3:g} kHz, f_D = "
                     f"{max_doppler_hz(cfg):.0f} Hz)")
    warnings.warn(
        f"the frequency-domain link omits {db(total)} of interference relative to the signal "
        f"(ISI from delays beyond the CP: {db(isi)}; Doppler ICI: {db(ici)}), above the "
        f"{INTERFERENCE_LIMIT_DB:g} dB limit, so its SINR is optimistic at high SNR; "
        + "; or ".join(fixes),
        FrequencyDomainValidityWarning, stacklevel=stacklevel)
    return True
