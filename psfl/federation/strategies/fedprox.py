"""``fedprox-csc``: FedProx (Li et al., MLSys 2020) on the shared CSC student.

FedAvg with one change on the MU: the student's local objective adds a proximal term that keeps
it near the global model it received, ``MSE(x, x̂_s) + μ/2·‖w − w_global‖²`` with
``μ = federation.proximal_mu`` (:mod:`psfl.federation.local`). As Flower's ``FedProx(FedAvg)``,
it overrides only what it tells the MUs.
"""

from __future__ import annotations

from psfl.federation.strategies.fedavg import FedAvg
from psfl.federation.strategies.registry import STRATEGIES

__all__ = ["FedProx"]


@STRATEGIES.register("fedprox-csc", order=50)
class FedProx(FedAvg):
    """FedAvg whose MUs train with the proximal objective (module docstring)."""

    objective = "prox"
