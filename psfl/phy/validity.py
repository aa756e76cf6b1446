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

import numpy as np
from scipy.special import j0

from .budget import SPEED_OF_LIGHT
from .config import CIR_CHANNELS, PATHLOSS_CHANNELS, PhyConfig

__all__ = [
    "INTERFERENCE_LIMIT_DB",
    "FrequencyDomainValidityWarning",
    "check_frequency_domain",
    "ici_power_jakes",
    "isi_power",
    "max_doppler_hz",
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
        a, b, c = _LGDS_NLOS[cfg.channel]
        f_ghz = cfg.carrier_hz / 1e9
        if cfg.channel == "uma":
            f_ghz = max(f_ghz, 6.0)
        ds = 10.0 ** (a * math.log10(b + f_ghz) + c)
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
