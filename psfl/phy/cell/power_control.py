r"""Open-loop fractional uplink power control (TS 38.213 §7.1.1) and the SNR per RE it gives.

Sionna's :func:`~sionna.sys.open_loop_uplink_power_control` sets the PUSCH power of an MU
holding :math:`M` PRBs:

.. math::
    P = \min\{P_\mathrm{max},\ P_0 + \alpha\,\mathrm{PL} + 10\log_{10} M\}\ \ [\mathrm{dBm}]

with :math:`P_0` the target received power per PRB, :math:`\alpha \in [0, 1]` the fractional
compensation and :math:`\mathrm{PL}` the MU's path loss to its serving cell. TS 38.213's
:math:`10\log_{10}(2^\mu M)` term is read with :math:`P_0` per PRB at the carrier's own
subcarrier spacing (ours: the :math:`2^\mu` folded into :math:`P_0`); the closed-loop and
transport-format terms are zero, as in Sionna. The path loss the MU compensates is its
large-scale loss to the serving site, shadowing included (:math:`\mathrm{PL} - \mathrm{SF}`,
what a downlink RSRP measurement sees), and :math:`P_\mathrm{max}` is ``phy.tx_power_dbm``.

With :math:`\alpha = 1` and :math:`P < P_\mathrm{max}` the received power per PRB is
:math:`P_0` exactly, at any distance; otherwise it is
:math:`P_0 - (1-\alpha)\,\mathrm{PL}` until the cap.

SNR per resource element of an MU (power spread evenly over its :math:`12M` subcarriers, noise
:math:`k_B T_0\,\Delta f\,\mathrm{NF}` per subcarrier, antenna gains of ``phy``):

.. math::
    \gamma = P - 10\log_{10}(12 M) + G_\mathrm{tx} + G_\mathrm{rx} + G - N_\mathrm{sc}
    \ \ [\mathrm{dB}],\qquad N_\mathrm{sc} = -174 + 10\log_{10}\Delta f + \mathrm{NF},

with :math:`G` the link's large-scale gain. Over the whole carrier this is the link budget of
:func:`~psfl.phy.budget.snr_db_from_budget` (same power, same noise density).
"""

from __future__ import annotations

import numpy as np

from psfl.phy.budget import thermal_noise_dbm

__all__ = ["SUBCARRIERS_PER_PRB", "snr_per_re_db", "subcarrier_noise_dbm", "uplink_power_dbm"]

#: Subcarriers of one physical resource block (TS 38.211).
SUBCARRIERS_PER_PRB = 12


def uplink_power_dbm(path_loss_db: np.ndarray, num_prbs: np.ndarray, *, p0_dbm: float,
                     alpha: float, p_max_dbm: float) -> np.ndarray:
    r"""PUSCH transmit power of each MU (module docstring), from Sionna's
    :func:`~sionna.sys.open_loop_uplink_power_control`.

    Input
    -----
    path_loss_db : [...], np.float64
        Path loss to the serving cell [dB] (shadowing included).
    num_prbs : [...] (same shape), int
        PRBs each MU holds in the slot.
    p0_dbm, alpha, p_max_dbm : float
        Target received power per PRB [dBm], compensation factor, maximum power [dBm].

    Output
    ------
    power_dbm : [...], np.float64
        Transmit power over all the MU's PRBs [dBm]; ``-inf`` where it holds none.
    """
    import tensorflow as tf
    from sionna.sys import open_loop_uplink_power_control

    pl = np.asarray(path_loss_db, np.float64)
    m = np.broadcast_to(np.asarray(num_prbs), pl.shape)
    watt = open_loop_uplink_power_control(
        tf.constant(10.0 ** (pl / 10.0)), tf.constant(SUBCARRIERS_PER_PRB * m, tf.float64),
        alpha=alpha, p0_dbm=p0_dbm, ut_max_power_dbm=p_max_dbm, precision="double").numpy()
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(watt) + 30.0


def subcarrier_noise_dbm(phy_cfg) -> float:
    """Thermal noise of one subcarrier at the BS, :math:`N_\\mathrm{sc}` [dBm]."""
    return float(thermal_noise_dbm(phy_cfg.scs_hz, phy_cfg.noise_figure_db))


def snr_per_re_db(power_dbm: np.ndarray, num_prbs: np.ndarray, gain_db: np.ndarray,
                  phy_cfg) -> np.ndarray:
    r""":math:`\gamma` of the module docstring: mean SNR per RE and receive antenna [dB].

    Input
    -----
    power_dbm, num_prbs, gain_db : [...] (broadcastable)
        Transmit power [dBm], PRBs held (>= 1) and large-scale gain [dB].
    phy_cfg : PhyConfig
        Subcarrier spacing, noise figure, antenna gains.

    Output
    ------
    snr_db : [...], np.float64
    """
    m = np.maximum(np.asarray(num_prbs, np.float64), 1.0)
    return (np.asarray(power_dbm, np.float64) - 10.0 * np.log10(SUBCARRIERS_PER_PRB * m)
            + phy_cfg.tx_antenna_gain_dbi + phy_cfg.rx_antenna_gain_dbi
            + np.asarray(gain_db, np.float64) - subcarrier_noise_dbm(phy_cfg))
