"""``psfl``: personalized semantic federated learning, PLD + AGP (the paper's method).

* **PLD**: each MU trains its persistent mentor (the largest GSC its resources allow,
  :mod:`psfl.federation.mentor`) and distils it into the student,
  ``λ·MSE(x, x̂_s) + (1 − λ)·MSE(x̂_m, x̂_s)`` (:mod:`psfl.federation.distill`; the variant of
  ``federation.distill`` may skip a round's distillation when the mentor is not the better one).
* **AGP**: the BS prunes each MU's copy of the global student by that MU's downlink channel and
  averages the updates over the entries each MU held (:mod:`psfl.federation.agp`,
  :mod:`psfl.federation.aggregate`).
"""

from __future__ import annotations

from psfl.federation.strategies.fedavg import FedAvg
from psfl.federation.strategies.registry import STRATEGIES

__all__ = ["Psfl"]


@STRATEGIES.register("psfl", order=10)
class Psfl(FedAvg):
    """PSFL: PLD on the MUs, AGP at the BS (module docstring)."""

    uses_pld = True
    uses_agp = True
    objective = "pld"
