"""Each MU's channel state, re-drawn every round from the link budget (UMi by default).

Large scale (drawn here, per MU and round): LoS state with the TR 38.901 LoS probability at the
MU's distance, the median path loss of that state, and log-normal shadowing with the scenario's
standard deviation. The resulting average SNR drives the round: the BS reads it to choose AGP's
pruning ratio and the transfer energies, and the MU trains and is evaluated through
``psfl.phy.UplinkLink`` with the small-scale channel ``small_scale`` at that SNR.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from psfl.federation.population import MobileUser
from psfl.phy import PhyConfig, los_probability, snr_db_from_budget
from psfl.phy.budget import SHADOW_FADING_STD_DB, budget_terms

__all__ = ["RoundChannel", "draw_round_channels", "transfer_energy"]


@dataclasses.dataclass(frozen=True)
class RoundChannel:
    """One MU's channel in one round.

    Attributes
    ----------
    snr_db : float — uplink average SNR at the BS [dB]
    downlink_snr_db : float — downlink average SNR at the MU [dB] (BS power, MU noise figure)
    los : bool — line-of-sight state
    shadow_db : float — shadow fading drawn [dB]
    """

    snr_db: float
    downlink_snr_db: float
    los: bool
    shadow_db: float


def draw_round_channels(population: list[MobileUser], phy: PhyConfig, scenario: str,
                        bs_tx_power_dbm: float, rng: np.random.Generator) -> list[RoundChannel]:
    """Draw every MU's channel for one round (see module docstring).

    The downlink reuses the path loss and shadowing (reciprocity of the large-scale gain) with
    the BS's transmit power; both ends are given the same noise figure and bandwidth.
    """
    out = []
    bw = phy.noise_bandwidth_hz
    for mu in population:
        p_los = float(los_probability(scenario, mu.distance_m, phy.ut_height_m))
        los = bool(rng.random() < p_los)
        shadow = float(rng.normal(0.0, SHADOW_FADING_STD_DB[scenario][0 if los else 1]))
        common = dict(scenario=scenario, los=los, **budget_terms(phy))
        up = float(snr_db_from_budget(phy.tx_power_dbm, mu.distance_m, bw, **common)) - shadow
        down = float(snr_db_from_budget(bs_tx_power_dbm, mu.distance_m, bw, **common)) - shadow
        out.append(RoundChannel(snr_db=up, downlink_snr_db=down, los=los, shadow_db=shadow))
    return out


def transfer_energy(phy: PhyConfig, power_dbm: float, snr_db: float) -> Callable[[float], float]:
    """``E(b) = p·b / (B·log2(1 + SNR))``: the energy of sending ``b`` bits at ``power_dbm``
    over a link of average SNR ``snr_db`` and bandwidth ``phy.noise_bandwidth_hz``
    (:func:`psfl.phy.energy.model_transfer_energy_j`) — AGP's budget and the BS's accounting."""
    from psfl.phy.energy import dbm_to_w, model_transfer_energy_j

    p_w, bw = float(dbm_to_w(power_dbm)), phy.noise_bandwidth_hz
    return lambda bits: float(model_transfer_energy_j(bits, p_w, bw, snr_db))
