r"""Link budget: thermal noise, 3GPP TR 38.901 path loss, LoS probability and SNR.

All quantities are in dB / dBm / metres / hertz as their names say. Functions accept
scalars or numpy arrays and return the same shape.

SNR from the budget (per resource element, equal to the SNR over the whole band because
both signal and noise are spread over the same bandwidth):

.. math::
    \mathrm{SNR}_\mathrm{dB} = P_\mathrm{tx,dBm} + G_\mathrm{tx} + G_\mathrm{rx}
        - \mathrm{PL}_\mathrm{dB} - N_\mathrm{dBm},
    \qquad N_\mathrm{dBm} = -174 + 10\log_{10} B + \mathrm{NF}

(-174 dBm/Hz is :math:`10\log_{10}(k_B T_0 / 1\,\mathrm{mW})` at :math:`T_0 = 290` K.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import finite, nonneg, scalar

__all__ = [
    "budget_terms",
    "DEFAULT_BS_HEIGHT_M",
    "SHADOW_FADING_STD_DB",
    "los_probability",
    "path_loss_db",
    "snr_db_from_budget",
    "snr_db_from_config",
    "thermal_noise_dbm",
]

#: Boltzmann constant times 290 K, in dBm/Hz.
KT0_DBM_PER_HZ = 10.0 * np.log10(1.380649e-23 * 290.0 / 1e-3)  # = -173.98
SPEED_OF_LIGHT = 299_792_458.0

#: 3GPP default BS heights [m].
DEFAULT_BS_HEIGHT_M = {"umi": 10.0, "uma": 25.0, "rma": 35.0}

#: Log-normal shadow-fading standard deviation [dB] (TR 38.901 Table 7.4.1-1), (LoS, NLoS).
#: RMa LoS is 4 dB before the breakpoint and 6 dB after; 4 is listed.
SHADOW_FADING_STD_DB = {"umi": (4.0, 7.82), "uma": (4.0, 6.0), "rma": (4.0, 8.0)}

_SCENARIOS = ("umi", "uma", "rma")


def thermal_noise_dbm(bandwidth_hz: Any, noise_figure_db: Any = 0.0) -> Any:
    r"""Receiver noise power :math:`N = 10\log_{10}(k_B T_0 B / 1\,\mathrm{mW}) + \mathrm{NF}`.

    Parameters
    ----------
    bandwidth_hz : float or array
        Noise bandwidth :math:`B` [Hz], > 0.
    noise_figure_db : float or array
        Receiver noise figure NF [dB], >= 0.

    Output
    ------
    noise_dbm : float or array
        Noise power [dBm]; e.g. -100.8 dBm for 20 MHz with NF 0 dB.
    """
    b = nonneg("bandwidth_hz", bandwidth_hz, strict=True)
    nf = nonneg("noise_figure_db", noise_figure_db)
    return scalar(KT0_DBM_PER_HZ + 10.0 * np.log10(b) + nf)


def _scenario(s: str) -> str:
    s = str(s).lower()
    if s not in _SCENARIOS:
        raise ValueError(f"unknown scenario {s!r}; valid scenarios are: {', '.join(_SCENARIOS)}")
    return s


def _heights(scenario: str, bs_height_m: Any, ut_height_m: Any) -> tuple[np.ndarray, np.ndarray]:
    h_bs = DEFAULT_BS_HEIGHT_M[scenario] if bs_height_m is None else bs_height_m
    return nonneg("bs_height_m", h_bs, strict=True), nonneg("ut_height_m", ut_height_m, strict=True)


def los_probability(scenario: str, distance_m: Any, ut_height_m: Any = 1.5) -> Any:
    r"""Line-of-sight probability of TR 38.901 Table 7.4.2-1 (outdoor MU).

    * UMi: :math:`1` for :math:`d \le 18`, else :math:`18/d + e^{-d/36}(1-18/d)`.
    * UMa (:math:`h_\mathrm{UT} \le 13` m): :math:`1` for :math:`d \le 18`, else
      :math:`18/d + e^{-d/63}(1-18/d)`.
    * RMa: :math:`1` for :math:`d \le 10`, else :math:`e^{-(d-10)/1000}`.

    Parameters
    ----------
    scenario : "umi" | "uma" | "rma"
    distance_m : float or array
        Ground (2D) MU–BS distance [m], > 0.
    ut_height_m : float
        MU height [m]; UMa heights above 13 m are not modelled (the 13 m formula is used).

    Output
    ------
    p_los : float or array in [0, 1]
    """
    s = _scenario(scenario)
    d = nonneg("distance_m", distance_m, strict=True)
    nonneg("ut_height_m", ut_height_m, strict=True)
    if s == "rma":
        p = np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))
    else:
        scale = 36.0 if s == "umi" else 63.0
        p = np.where(d <= 18.0, 1.0, 18.0 / d + np.exp(-d / scale) * (1.0 - 18.0 / d))
    return scalar(p)


def path_loss_db(
    scenario: str,
    distance_m: Any,
    carrier_hz: float = 3.5e9,
    los: bool = True,
    bs_height_m: float | None = None,
    ut_height_m: float = 1.5,
) -> Any:
    r"""Median path loss of TR 38.901 Table 7.4.1-1 (no shadowing).

    With :math:`d_{3D} = \sqrt{d^2 + (h_\mathrm{BS}-h_\mathrm{UT})^2}`, :math:`f_c` in GHz and
    the breakpoint :math:`d'_\mathrm{BP} = 4 (h_\mathrm{BS}-1)(h_\mathrm{UT}-1) f_c/c`
    (UMi, UMa; :math:`f_c` in Hz):

    * UMi LoS: :math:`32.4 + 21\log_{10} d_{3D} + 20\log_{10} f_c` up to
      :math:`d'_\mathrm{BP}`, then :math:`32.4 + 40\log_{10} d_{3D} + 20\log_{10} f_c
      - 9.5\log_{10}(d'^2_\mathrm{BP} + (h_\mathrm{BS}-h_\mathrm{UT})^2)`.
      NLoS: :math:`\max(\mathrm{PL_{LoS}}, 35.3\log_{10} d_{3D} + 22.4 + 21.3\log_{10} f_c
      - 0.3(h_\mathrm{UT}-1.5))`.
    * UMa LoS: :math:`28 + 22\log_{10} d_{3D} + 20\log_{10} f_c`, after the breakpoint
      :math:`28 + 40\log_{10} d_{3D} + 20\log_{10} f_c - 9\log_{10}(d'^2_\mathrm{BP} +
      (h_\mathrm{BS}-h_\mathrm{UT})^2)`. NLoS: :math:`\max(\mathrm{PL_{LoS}}, 13.54 +
      39.08\log_{10} d_{3D} + 20\log_{10} f_c - 0.6(h_\mathrm{UT}-1.5))`.
    * RMa (building height 5 m, street width 20 m), breakpoint
      :math:`d_\mathrm{BP} = 2\pi h_\mathrm{BS} h_\mathrm{UT} f_c/c`: LoS
      :math:`\mathrm{PL}_1 = 20\log_{10}(40\pi d_{3D} f_c/3) + \min(0.03 h^{1.72},10)
      \log_{10} d_{3D} - \min(0.044h^{1.72}, 14.77) + 0.002\log_{10}(h) d_{3D}`, after the
      breakpoint :math:`\mathrm{PL}_1(d_\mathrm{BP}) + 40\log_{10}(d_{3D}/d_\mathrm{BP})`.
      NLoS: :math:`\max(\mathrm{PL_{LoS}}, 161.04 - 7.1\log_{10}W + 7.5\log_{10}h -
      (24.37 - 3.7(h/h_\mathrm{BS})^2)\log_{10}h_\mathrm{BS} + (43.42 -
      3.1\log_{10}h_\mathrm{BS})(\log_{10}d_{3D} - 3) + 20\log_{10}f_c -
      (3.2(\log_{10}(11.75 h_\mathrm{UT}))^2 - 4.97))`.

    The formulas are applied at any distance (no clipping to the 10 m…5 km validity range).

    Parameters
    ----------
    scenario : "umi" | "uma" | "rma"
    distance_m : float or array
        Ground (2D) MU–BS distance [m], > 0.
    carrier_hz : float
        Carrier frequency [Hz].
    los : bool
        Line of sight (True) or not.
    bs_height_m : float or None
        BS height [m]; None uses the 3GPP default (10, 25, 35 m).
    ut_height_m : float
        MU height [m].

    Output
    ------
    pl_db : float or array
        Path loss [dB] (positive).
    """
    s = _scenario(scenario)
    d2 = nonneg("distance_m", distance_m, strict=True)
    fc_hz = float(nonneg("carrier_hz", carrier_hz, strict=True))
    h_bs, h_ut = _heights(s, bs_height_m, ut_height_m)
    fc = fc_hz / 1e9
    d3 = np.sqrt(d2**2 + (h_bs - h_ut) ** 2)
    if s in ("umi", "uma"):
        d_bp = 4.0 * (h_bs - 1.0) * (h_ut - 1.0) * fc_hz / SPEED_OF_LIGHT
        a, b, c = (32.4, 21.0, 9.5) if s == "umi" else (28.0, 22.0, 9.0)
        pl1 = a + b * np.log10(d3) + 20.0 * np.log10(fc)
        pl2 = (a + 40.0 * np.log10(d3) + 20.0 * np.log10(fc)
               - c * np.log10(d_bp**2 + (h_bs - h_ut) ** 2))
        pl_los = np.where(d2 <= d_bp, pl1, pl2)
        if s == "umi":
            pl_n = 35.3 * np.log10(d3) + 22.4 + 21.3 * np.log10(fc) - 0.3 * (h_ut - 1.5)
        else:
            pl_n = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc) - 0.6 * (h_ut - 1.5)
    else:
        h, w = 5.0, 20.0
        d_bp = 2.0 * np.pi * h_bs * h_ut * fc_hz / SPEED_OF_LIGHT

        def pl1(dd: np.ndarray) -> np.ndarray:
            return (20.0 * np.log10(40.0 * np.pi * dd * fc / 3.0)
                    + min(0.03 * h**1.72, 10.0) * np.log10(dd)
                    - min(0.044 * h**1.72, 14.77) + 0.002 * np.log10(h) * dd)

        pl_los = np.where(d2 <= d_bp, pl1(d3), pl1(d_bp) + 40.0 * np.log10(d3 / d_bp))
        pl_n = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
                - (24.37 - 3.7 * (h / h_bs) ** 2) * np.log10(h_bs)
                + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3) - 3.0)
                + 20.0 * np.log10(fc) - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97))
    pl = pl_los if los else np.maximum(pl_los, pl_n)
    return scalar(pl)


def snr_db_from_budget(
    tx_power_dbm: Any,
    distance_m: Any,
    bandwidth_hz: float,
    *,
    scenario: str = "umi",
    carrier_hz: float = 3.5e9,
    noise_figure_db: float = 7.0,
    tx_gain_dbi: float = 0.0,
    rx_gain_dbi: float = 0.0,
    los: bool | None = None,
    bs_height_m: float | None = None,
    ut_height_m: float = 1.5,
) -> Any:
    r"""Average SNR [dB] at the BS from a link budget with TR 38.901 path loss.

    :math:`\mathrm{SNR} = P_\mathrm{tx} + G_\mathrm{tx} + G_\mathrm{rx} - \mathrm{PL}
    - N(B, \mathrm{NF})` (see module docstring). With ``los=None`` the path *gain* is
    averaged over the LoS state, :math:`\bar g = p_\mathrm{LoS} g_\mathrm{LoS} +
    (1-p_\mathrm{LoS}) g_\mathrm{NLoS}`; shadowing is not included (median values).

    Parameters
    ----------
    tx_power_dbm : float or array
        MU transmit power [dBm] (finite).
    distance_m : float or array
        Ground MU–BS distance [m], > 0.
    bandwidth_hz : float
        Noise bandwidth [Hz], > 0.
    scenario : "umi" | "uma" | "rma"
    carrier_hz, noise_figure_db, tx_gain_dbi, rx_gain_dbi, bs_height_m, ut_height_m
        As in :func:`path_loss_db` and :func:`thermal_noise_dbm`.
    los : bool or None
        Force LoS/NLoS, or None for the LoS-probability average.

    Output
    ------
    snr_db : float or array
    """
    p = finite("tx_power_dbm", tx_power_dbm)
    g = finite("tx_gain_dbi", tx_gain_dbi) + finite("rx_gain_dbi", rx_gain_dbi)
    noise = thermal_noise_dbm(bandwidth_hz, noise_figure_db)
    kw = dict(carrier_hz=carrier_hz, bs_height_m=bs_height_m, ut_height_m=ut_height_m)
    if los is None:
        p_los = np.asarray(los_probability(scenario, distance_m, ut_height_m))
        g_los = 10.0 ** (-np.asarray(path_loss_db(scenario, distance_m, los=True, **kw)) / 10)
        g_nlos = 10.0 ** (-np.asarray(path_loss_db(scenario, distance_m, los=False, **kw)) / 10)
        pl = -10.0 * np.log10(p_los * g_los + (1.0 - p_los) * g_nlos)
    else:
        pl = np.asarray(path_loss_db(scenario, distance_m, los=bool(los), **kw))
    return scalar(p + g - pl - noise)


def budget_terms(cfg: Any) -> dict[str, Any]:
    """The keyword arguments of :func:`snr_db_from_budget` that a
    :class:`~psfl.phy.PhyConfig` fixes (carrier, noise figure, antenna gains, heights): every
    caller that budgets a link from the configuration passes these, and only these."""
    return dict(carrier_hz=cfg.carrier_hz, noise_figure_db=cfg.noise_figure_db,
                tx_gain_dbi=cfg.tx_antenna_gain_dbi, rx_gain_dbi=cfg.rx_antenna_gain_dbi,
                bs_height_m=cfg.bs_height_m or None, ut_height_m=cfg.ut_height_m)


def snr_db_from_config(cfg: Any, los: bool | None = None, path_loss: bool = True) -> float:
    """:func:`snr_db_from_budget` with the values of a :class:`~psfl.phy.PhyConfig`.

    ``path_loss=False`` gives the budget without path loss (``P + G - N``), the reference
    the link scales the small-scale-plus-large-scale channel of umi/uma/rma by.
    """
    if not path_loss:
        noise = thermal_noise_dbm(cfg.noise_bandwidth_hz, cfg.noise_figure_db)
        return float(cfg.tx_power_dbm + cfg.tx_antenna_gain_dbi + cfg.rx_antenna_gain_dbi
                     - noise)
    scenario = cfg.channel if cfg.channel in _SCENARIOS else "umi"
    return float(snr_db_from_budget(cfg.tx_power_dbm, cfg.distance_m, cfg.noise_bandwidth_hz,
                                    scenario=scenario, los=los, **budget_terms(cfg)))
