r"""Rate and energy accounting of the uplink (SI units: bit/s, s, W, J, Hz).

* Shannon rate: :math:`R = B \log_2(1 + \mathrm{SNR})` [bit/s].
* Airtime of :math:`N` symbols on the OFDM grid:
  :math:`T = \lceil N / n_\mathrm{data} \rceil\, N_\mathrm{sym} (N_\mathrm{FFT} +
  N_\mathrm{CP}) / (N_\mathrm{FFT} \Delta f)` [s], with :math:`n_\mathrm{data}` data REs
  per slot (:mod:`psfl.phy.numerology`).
* Transmit energy: :math:`E = P\,T` [J].
* Energy to transfer a model of :math:`b` bits at the Shannon rate:
  :math:`E = P\,b / (B \log_2(1+\mathrm{SNR}))` [J].
* Local computation energy: :math:`E = \kappa\, C\, f^2` [J] for :math:`C` CPU cycles at
  clock :math:`f` [Hz] and effective switched capacitance :math:`\kappa` (typ.
  :math:`10^{-28}`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._checks import finite, nonneg, scalar
from .numerology import data_res_per_slot, slot_duration_s

__all__ = [
    "airtime_s",
    "compute_energy_j",
    "dbm_to_w",
    "model_transfer_energy_j",
    "shannon_rate",
    "transmit_energy_j",
    "w_to_dbm",
]


def dbm_to_w(power_dbm: Any) -> Any:
    r""":math:`P_\mathrm{W} = 10^{(P_\mathrm{dBm} - 30)/10}`; e.g. 23 dBm → 0.1995 W."""
    return scalar(10.0 ** ((finite("power_dbm", power_dbm) - 30.0) / 10.0))


def w_to_dbm(power_w: Any) -> Any:
    r""":math:`P_\mathrm{dBm} = 10\log_{10}(P_\mathrm{W}) + 30`; ``power_w`` > 0."""
    return scalar(10.0 * np.log10(nonneg("power_w", power_w, strict=True)) + 30.0)


def shannon_rate(bandwidth_hz: Any, snr_db: Any) -> Any:
    r"""Shannon capacity :math:`R = B\log_2(1 + 10^{\mathrm{SNR_{dB}}/10})`.

    Parameters
    ----------
    bandwidth_hz : float or array
        Bandwidth :math:`B` [Hz], >= 0.
    snr_db : float or array
        SNR [dB], finite.

    Output
    ------
    rate : float or array
        [bit/s].
    """
    b = nonneg("bandwidth_hz", bandwidth_hz)
    snr = finite("snr_db", snr_db)
    return scalar(b * np.log2(1.0 + 10.0 ** (snr / 10.0)))


def airtime_s(num_symbols: int, cfg: Any) -> float:
    r"""Air time of ``num_symbols`` channel symbols on the OFDM grid of ``cfg`` [s].

    :math:`T = \lceil N / n_\mathrm{data}\rceil\, T_\mathrm{slot}`, with the data REs per slot
    :math:`n_\mathrm{data}` and the slot duration :math:`T_\mathrm{slot}` of
    :mod:`psfl.phy.numerology` (the numerology of the link's grid;
    :meth:`UplinkLink.airtime_s` is this function of its :meth:`~UplinkLink.channel_uses`).

    Parameters
    ----------
    num_symbols : int
        Number of complex channel symbols, >= 0.
    cfg : PhyConfig
        Numerology.

    Output
    ------
    airtime : float
        [s]; 0 for no symbols.
    """
    n = float(nonneg("num_symbols", num_symbols))
    if not n.is_integer():
        raise ValueError(f"num_symbols must be a whole number, got {num_symbols!r}")
    return math.ceil(n / data_res_per_slot(cfg)) * slot_duration_s(cfg)


def transmit_energy_j(tx_power_w: Any, airtime: Any) -> Any:
    r"""Transmit energy :math:`E = P\,T`.

    Parameters
    ----------
    tx_power_w : float or array
        Transmit power [W], >= 0 (see :func:`dbm_to_w`).
    airtime : float or array
        Air time [s], >= 0 (see :func:`airtime_s`).

    Output
    ------
    energy : float or array
        [J].
    """
    return scalar(nonneg("tx_power_w", tx_power_w) * nonneg("airtime", airtime))


def model_transfer_energy_j(num_bits: Any, tx_power_w: Any, bandwidth_hz: Any,
                            snr_db: Any) -> Any:
    r"""Energy to send a model of :math:`b` bits at the Shannon rate,
    :math:`E = P\,b / (B\log_2(1 + \mathrm{SNR}))`.

    Parameters
    ----------
    num_bits : float or array
        Model size :math:`b` [bit], >= 0.
    tx_power_w : float or array
        Transmit power :math:`P` [W], >= 0.
    bandwidth_hz : float or array
        Bandwidth :math:`B` [Hz], > 0.
    snr_db : float or array
        SNR [dB], finite.

    Output
    ------
    energy : float or array
        [J].
    """
    b = nonneg("num_bits", num_bits)
    p = nonneg("tx_power_w", tx_power_w)
    nonneg("bandwidth_hz", bandwidth_hz, strict=True)
    rate = np.asarray(shannon_rate(bandwidth_hz, snr_db))
    return scalar(p * b / rate)


def compute_energy_j(cycles: Any, freq_hz: Any, kappa: float = 1e-28) -> Any:
    r"""Local computation energy :math:`E = \kappa\,C\,f^2`.

    Parameters
    ----------
    cycles : float or array
        CPU cycles :math:`C`, >= 0 (e.g. cycles per sample × samples × epochs).
    freq_hz : float or array
        CPU clock :math:`f` [Hz], >= 0.
    kappa : float
        Effective switched capacitance :math:`\kappa` [J·s²/cycle³],
        >= 0; 1e-28 by default.

    Output
    ------
    energy : float or array
        [J].
    """
    c = nonneg("cycles", cycles)
    f = nonneg("freq_hz", freq_hz)
    k = nonneg("kappa", kappa)
    return scalar(k * c * f**2)
