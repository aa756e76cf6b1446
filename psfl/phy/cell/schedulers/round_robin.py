r"""``round-robin``: the carrier in equal contiguous shares, rotating over the MUs.

In each slot the next :math:`m = \min(N_a, P)` active MUs (those with data left, :math:`N_a`
of them) in cyclic order from a pointer are served; the :math:`P` PRBs are cut into :math:`m`
contiguous blocks, the first :math:`r = P \bmod m` of :math:`\lceil P/m \rceil` PRBs and the
others of :math:`\lfloor P/m \rfloor`, handed out in that order. The pointer then moves past
the last MU served when :math:`N_a > P` (the next MUs' turn) and to the MU after the :math:`r`
larger blocks otherwise (the larger blocks rotate). With all :math:`N` MUs active, every MU
therefore holds exactly :math:`P` PRB-slots in every :math:`N` slots (ours: 3GPP leaves
scheduling to the vendor). Channel-blind: the rates are ignored.
"""

from __future__ import annotations

import numpy as np

from .registry import SCHEDULERS, Scheduler


@SCHEDULERS.register("round-robin", order=10)
class RoundRobin(Scheduler):
    r"""Equal contiguous PRB shares, rotating (module docstring).

    Parameters
    ----------
    num_mus, num_prbs : int
        As for :class:`~psfl.phy.cell.schedulers.registry.Scheduler`.

    Input
    -----
    rate_last_slot : [num_mus], np.float64
        Ignored.
    rate_achievable : [num_prbs, num_mus], np.float64
        Ignored.
    active : [num_mus], bool
        MUs with data left to send.

    Output
    ------
    owner : [num_prbs], np.int32
        MU per PRB; all -1 when no MU is active.
    """

    def __init__(self, num_mus: int, num_prbs: int):
        super().__init__(num_mus, num_prbs)
        self._pointer = 0

    def __call__(self, rate_last_slot: np.ndarray, rate_achievable: np.ndarray,
                 active: np.ndarray) -> np.ndarray:
        n, p = self.num_mus, self.num_prbs
        order = (self._pointer + np.arange(n)) % n
        order = order[np.asarray(active, bool)[order]]
        if order.size == 0:
            return np.full(p, -1, np.int32)
        m = min(order.size, p)
        q, r = divmod(p, m)
        sizes = np.full(m, q) + (np.arange(m) < r)
        served = order[:m]
        if order.size > p:
            self._pointer = (served[-1] + 1) % n
        else:
            self._pointer = served[r]
        return np.repeat(served, sizes).astype(np.int32)
