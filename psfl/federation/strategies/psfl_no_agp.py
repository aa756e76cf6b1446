"""``psfl-no-agp``: PSFL without adaptive global pruning (ablation): PLD on the MUs, and every MU
receives the dense global student."""

from __future__ import annotations

from psfl.federation.strategies.psfl import Psfl
from psfl.federation.strategies.registry import STRATEGIES

__all__ = ["PsflNoAgp"]


@STRATEGIES.register("psfl-no-agp", order=30)
class PsflNoAgp(Psfl):
    """PSFL without AGP (module docstring)."""

    uses_agp = False
