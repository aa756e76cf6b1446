"""``fedavg-csc``: FedAvg (McMahan et al., 2017) on the shared CSC student.

Every MU receives the dense global student, trains it on its own images with the plain
reconstruction loss ``MSE(x, x̂_s)``, and sends it back; the BS averages the students weighted by
data size (``federation.aggregator`` may choose a robust rule instead). No mentor, no pruning:
this is :class:`~.registry.Strategy`'s shared behaviour with nothing switched on.
"""

from __future__ import annotations

from psfl.federation.strategies.registry import STRATEGIES, Strategy

__all__ = ["FedAvg"]


@STRATEGIES.register("fedavg-csc", order=40)
class FedAvg(Strategy):
    """FedAvg on the CSC student (module docstring)."""

    uses_pld = False
    uses_agp = False
    objective = "mse"
    aggregates = True
