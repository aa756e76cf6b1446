"""What each training strategy does: PLD on or off, AGP on or off, the student's objective, and
whether the BS aggregates at all.

=============  =====  =====  =========  =========
strategy       PLD    AGP    objective  aggregate
=============  =====  =====  =========  =========
psfl           yes    yes    pld        yes
psfl-no-pld    no     yes    mse        yes
psfl-no-agp    yes    no     pld        yes
fedavg-csc     no     no     mse        yes
fedprox-csc    no     no     prox       yes
local-only     no     no     mse        no
=============  =====  =====  =========  =========

The configuration's choice list (``federation.strategy``) is :data:`STRATEGIES`, the keys of this
table, so a name validates exactly when it is implemented. Imports nothing heavy.
"""

from __future__ import annotations

import dataclasses

__all__ = ["STRATEGIES", "StrategyFlags", "strategy_flags"]


@dataclasses.dataclass(frozen=True)
class StrategyFlags:
    pld: bool
    agp: bool
    objective: str
    aggregate: bool


_TABLE: dict[str, StrategyFlags] = {
    "psfl": StrategyFlags(pld=True, agp=True, objective="pld", aggregate=True),
    "psfl-no-pld": StrategyFlags(pld=False, agp=True, objective="mse", aggregate=True),
    "psfl-no-agp": StrategyFlags(pld=True, agp=False, objective="pld", aggregate=True),
    "fedavg-csc": StrategyFlags(pld=False, agp=False, objective="mse", aggregate=True),
    "fedprox-csc": StrategyFlags(pld=False, agp=False, objective="prox", aggregate=True),
    "local-only": StrategyFlags(pld=False, agp=False, objective="mse", aggregate=False),
}

#: Every strategy name, in the order of the table above.
STRATEGIES: tuple[str, ...] = tuple(_TABLE)


def strategy_flags(name: str) -> StrategyFlags:
    """The row of ``name`` in the module's table."""
    if name not in _TABLE:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(_TABLE)}")
    return _TABLE[name]
