r"""``proportional-fair``: Sionna's :class:`~sionna.sys.PFSchedulerSUMIMO`, one PRB per
frequency resource and one decision per slot.

PRB :math:`i` of slot :math:`t` goes to :math:`\arg\max_u \tilde R_t(u, i) / T_{t-1}(u)`, with
:math:`\tilde R_t(u, i)` the achievable rate of MU :math:`u` on the PRB and :math:`T` the
throughput averaged with the discount :math:`\beta`:
:math:`T_t(u) = \beta T_{t-1}(u) + (1-\beta) R_t(u)` (Jalali et al., 2000; Sionna's docstring).
Sionna schedules per OFDM symbol and resource; psfl hands it one "OFDM symbol" per slot, so a
PRB is held for the whole slot, as NR grants PUSCH per slot.
"""

from __future__ import annotations

import numpy as np

from .registry import SCHEDULERS, Scheduler


@SCHEDULERS.register("proportional-fair", order=20)
class ProportionalFair(Scheduler):
    r"""Proportional fair per PRB and slot (module docstring), from ``sionna.sys``.

    Parameters
    ----------
    num_mus, num_prbs : int
        As for :class:`~psfl.phy.cell.schedulers.registry.Scheduler`.
    pf_beta : float
        Discount factor of the averaged throughput, in (0, 1) (default 0.98, Sionna's).

    Input
    -----
    rate_last_slot : [num_mus], np.float64
        Rate each MU achieved in the previous slot.
    rate_achievable : [num_prbs, num_mus], np.float64
        Achievable rate of each MU on each PRB in this slot.
    active : [num_mus], bool
        MUs with data left to send: the others' rates count as zero.

    Output
    ------
    owner : [num_prbs], np.int32
        MU per PRB; all -1 when no MU is active.
    """

    uses_rates = True
    options = ("pf_beta",)

    def __init__(self, num_mus: int, num_prbs: int, pf_beta: float = 0.98):
        super().__init__(num_mus, num_prbs)
        beta = pf_beta
        if not 0.0 < beta < 1.0:
            raise ValueError(f"beta must be in (0, 1), got {beta}; Sionna's default is 0.98")
        from sionna.sys import PFSchedulerSUMIMO

        self._pf = PFSchedulerSUMIMO(num_mus, num_prbs, 1, beta=beta, precision="double")

    @property
    def throughput(self) -> np.ndarray:
        """[num_mus] the discounted average throughput :math:`T` after the last slot."""
        return self._pf.rate_achieved_past.numpy()

    def __call__(self, rate_last_slot: np.ndarray, rate_achievable: np.ndarray,
                 active: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        active = np.asarray(active, bool)
        if not active.any():
            return np.full(self.num_prbs, -1, np.int32)
        rates = np.where(active, np.asarray(rate_achievable, np.float64), 0.0)
        rates = rates.reshape(1, self.num_prbs, self.num_mus)
        scheduled = self._pf(tf.constant(np.asarray(rate_last_slot, np.float64)),
                             tf.constant(rates))  # [1, P, N, 1] bool
        return np.argmax(scheduled.numpy()[0, :, :, 0], axis=-1).astype(np.int32)
