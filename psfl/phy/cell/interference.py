r"""Mean co-channel interference of a fixed drop, in closed form.

In every slot each neighbouring cell :math:`c` gives each PRB to one of its MUs (full buffer),
so at site :math:`b` a resource element of that PRB receives, per receive antenna, the power of
one MU per other cell. Averaged over the scheduling and the unit-power small-scale fading
(:math:`E|h|^2 = 1`), the interference-to-noise ratio per RE and antenna is

.. math::
    \overline{\mathrm{INR}}_b = \sum_{c \ne b} \sum_{v \in c} s_v\,
        10^{(P_v - 10\log_{10}(12 M_v) + G_\mathrm{tx} + G_\mathrm{rx} + G_{v,b}
        - N_\mathrm{sc})/10},

with :math:`s_v` the probability that :math:`v` holds a given PRB in a slot, :math:`M_v` the
PRBs it then holds and :math:`P_v` its power control (:mod:`~psfl.phy.cell.power_control`).
Round robin over :math:`n_c` always-active MUs gives :math:`s_v = 1/n_c` and
:math:`M_v = P/n_c` on average (the value used here; exact when :math:`n_c` divides the
:math:`P` PRBs or when no MU reaches :math:`P_\mathrm{max}`, whose power per PRB does not
depend on :math:`M`).

:func:`geometry_sinr_db` is the large-scale SINR of every MU at its serving site with that mean
interference, :math:`\bar\gamma_u / (1 + \overline{\mathrm{INR}}_{c(u)})` — the "geometry"
a drop figure colours its MUs by.
"""

from __future__ import annotations

import numpy as np

from .config import CellConfig
from .power_control import SUBCARRIERS_PER_PRB, snr_per_re_db, uplink_power_dbm
from .topology import Drop

__all__ = ["geometry_sinr_db", "mean_inr", "round_robin_load"]


def round_robin_load(drop: Drop, num_prbs: int) -> tuple[np.ndarray, np.ndarray]:
    """Share :math:`s_u = 1/n_c` of a PRB and mean PRBs :math:`M_u = P/n_c` of every MU under
    round robin with full buffers (module docstring).

    Output
    ------
    share : [U], np.float64
    num_prbs : [U], np.float64
    """
    n = np.bincount(drop.cell, minlength=drop.num_cells)[drop.cell].astype(np.float64)
    return 1.0 / n, num_prbs / n


def mean_inr(drop: Drop, site: int, share: np.ndarray, snr_db_at_site: np.ndarray) -> float:
    r""":math:`\overline{\mathrm{INR}}_b` at ``site`` (module docstring), linear.

    Input
    -----
    drop : Drop
    site : int
    share : [U], np.float64
        :math:`s_v` of every MU.
    snr_db_at_site : [U], np.float64
        Mean SNR per RE every MU would have at ``site`` when transmitting (its power per RE
        and its gain to ``site``; e.g. :func:`~psfl.phy.cell.power_control.snr_per_re_db`).

    Output
    ------
    inr : float
        Mean interference-to-noise ratio per RE and antenna, from the MUs of the other cells.
    """
    other = drop.cell != site
    return float(np.sum(share[other] * 10.0 ** (snr_db_at_site[other] / 10.0)))


def geometry_sinr_db(drop: Drop, cell_cfg: CellConfig, phy_cfg) -> np.ndarray:
    r"""Large-scale SINR of every MU at its serving site under round robin and fractional power
    control, interference from the other cells at its mean (module docstring); without
    ``cell_cfg.interference`` the SNR.

    Output
    ------
    sinr_db : [U], np.float64
    """
    num_prbs = phy_cfg.num_subcarriers // SUBCARRIERS_PER_PRB
    share, m = round_robin_load(drop, num_prbs)
    power = uplink_power_dbm(-drop.serving_gain_db, m, p0_dbm=cell_cfg.p0_dbm,
                             alpha=cell_cfg.alpha, p_max_dbm=phy_cfg.tx_power_dbm)
    at_site = snr_per_re_db(power[:, None], m[:, None], drop.gain_db, phy_cfg)  # [U, C]
    snr = drop.serving(at_site)
    if not cell_cfg.interference or drop.num_cells == 1:
        return snr
    inr = np.array([mean_inr(drop, c, share, at_site[:, c]) for c in range(drop.num_cells)])
    return snr - 10.0 * np.log10(1.0 + inr[drop.cell])
