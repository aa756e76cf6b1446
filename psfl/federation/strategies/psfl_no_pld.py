"""``psfl-no-pld``: PSFL without personalized local distillation (ablation): AGP at the BS, and
the MUs train the student alone with ``MSE(x, x̂_s)``, no mentor."""

from __future__ import annotations

from psfl.federation.strategies.psfl import Psfl
from psfl.federation.strategies.registry import STRATEGIES

__all__ = ["PsflNoPld"]


@STRATEGIES.register("psfl-no-pld", order=20)
class PsflNoPld(Psfl):
    """PSFL without PLD (module docstring)."""

    uses_pld = False
    objective = "mse"
