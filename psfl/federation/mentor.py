"""Mentor selection for PLD: the largest GSC an MU can afford.

Rule (ours; the paper says only "the largest variant local resources allow"). For a candidate
with ``P`` parameters, forward cost ``F`` FLOPs per image and ``A`` activation bytes per image,
trained for ``S`` steps of batch ``B`` per round:

* training memory  ``M = 16·P + B·A`` bytes (float32 weights, gradients and Adam's two moments,
  plus the activations kept for back-propagation);
* training compute ``C = 3·F·B·S`` FLOPs per round (a backward pass costs about twice the forward).

An MU takes the candidate with the most FLOPs among those with ``M ≤ memory`` and
``C ≤ compute``. The compute budget also bounds local energy, since ``E = κ·(C/φ)·f²`` grows with
``C``. If no candidate fits, it takes the cheapest one (and the selection says it does not fit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psfl.federation.population import MobileUser

__all__ = ["select_mentor", "training_compute_flops", "training_memory_bytes"]


def training_memory_bytes(cost: Mapping[str, Any], batch_size: int) -> float:
    return 16.0 * cost["params"] + batch_size * cost["activation_memory_bytes"]


def training_compute_flops(cost: Mapping[str, Any], batch_size: int, steps: int) -> float:
    return 3.0 * cost["flops"] * batch_size * steps


def select_mentor(costs: Sequence[Mapping[str, Any]], mu: MobileUser, batch_size: int,
                  steps: int) -> dict[str, Any]:
    """Pick the mentor of one MU.

    Parameters
    ----------
    costs
        Cost table rows with ``name``, ``params``, ``flops``, ``activation_memory_bytes``
        (e.g. the GSC rows of :func:`psfl.semantic.models.cost_table`).
    mu
        The MU and its budgets.
    batch_size, steps
        Mentor training load per round.

    Returns
    -------
    dict with ``name``, ``fits`` (bool), ``memory_bytes`` and ``compute_flops`` of the choice.
    """
    if not costs:
        raise ValueError("empty cost table: give at least one mentor candidate")

    def load(c: Mapping[str, Any]) -> tuple[float, float]:
        return training_memory_bytes(c, batch_size), training_compute_flops(c, batch_size, steps)

    fitting = [c for c in costs
               if load(c)[0] <= mu.memory_bytes and load(c)[1] <= mu.compute_flops]
    fits = bool(fitting)
    best = (max(fitting, key=lambda c: c["flops"]) if fits
            else min(costs, key=lambda c: c["flops"]))
    mem, comp = load(best)
    return {"name": best["name"], "fits": fits, "memory_bytes": mem, "compute_flops": comp}
