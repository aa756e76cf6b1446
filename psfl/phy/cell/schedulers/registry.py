r"""The scheduler registry and :class:`Scheduler`, the base every uplink scheduler derives from.

A scheduler decides, slot by slot, which MU of one cell transmits on each physical resource
block (PRB) of the carrier (OFDMA: at most one MU per PRB and slot). It is one class registered
under its configuration name (``cell.scheduler``) by a module of this package; its capabilities
are class attributes, read without building it:

* :attr:`Scheduler.uses_rates` — the decision reads the achievable rates of the slot (channel
  aware, e.g. proportional fair); False for a fixed rotation.
* :attr:`Scheduler.needs_prb_per_mu` — every MU must get at least one PRB in every slot, so a
  cell may not hold more MUs than the carrier has PRBs (:func:`check_prbs` refuses it).

This module imports neither TensorFlow nor Sionna, so listing the schedulers stays as light as
reading a configuration.
"""

from __future__ import annotations

import numpy as np

from psfl.config import ConfigError
from psfl.registry import Registry

__all__ = ["SCHEDULERS", "Scheduler", "check_prbs"]


class Scheduler:
    r"""Assigns the PRBs of one cell's carrier to its MUs, one slot per call.

    Parameters
    ----------
    num_mus : int
        MUs of the cell, ``>= 1``.
    num_prbs : int
        PRBs of the carrier, ``>= 1``.

    Input
    -----
    rate_last_slot : [num_mus], np.float64
        Rate each MU achieved in the previous slot (e.g. bits per RE summed over its PRBs); zeros
        before the first slot.
    rate_achievable : [num_prbs, num_mus], np.float64
        Achievable rate of each MU on each PRB in this slot (e.g. :math:`\log_2(1+\mathrm{SNR})`).
    active : [num_mus], bool
        MUs with data left to send; the others get no PRB.

    Output
    ------
    owner : [num_prbs], np.int32
        The MU transmitting on each PRB; -1 where the PRB stays empty.
    """

    uses_rates: bool = False
    needs_prb_per_mu: bool = False
    #: Keys of the ``[cell]`` section the class reads, passed as keyword arguments of the same
    #: names by whoever builds it (e.g. ``("pf_beta",)``).
    options: tuple[str, ...] = ()

    def __init__(self, num_mus: int, num_prbs: int):
        if num_mus < 1 or num_prbs < 1:
            raise ValueError(f"a scheduler needs num_mus >= 1 and num_prbs >= 1, got "
                             f"{num_mus} and {num_prbs}")
        self.num_mus, self.num_prbs = int(num_mus), int(num_prbs)

    def __call__(self, rate_last_slot: np.ndarray, rate_achievable: np.ndarray,
                 active: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def check_prbs(name: str, num_mus: int, num_prbs: int) -> None:
    """Refuses (:class:`~psfl.config.ConfigError`, one line naming the fix) a cell with more MUs
    than PRBs under a scheduler that needs one PRB per MU in every slot."""
    if SCHEDULERS.capability(name, "needs_prb_per_mu") and num_mus > num_prbs:
        others = ", ".join(SCHEDULERS.names(needs_prb_per_mu=False))
        raise ConfigError(
            f"cell.scheduler: {name!r} gives every MU a PRB in every slot, but {num_mus} MUs "
            f"share {num_prbs} PRBs; use at most {num_prbs} MUs, more subcarriers "
            f"(phy.num_subcarriers = 12 per PRB) or a scheduler that rotates ({others})")


SCHEDULERS = Registry("scheduler", "psfl.phy.cell.schedulers", setting="cell.scheduler",
                      base=Scheduler)
"""Scheduler names → their :class:`Scheduler` classes (one module per scheduler)."""
