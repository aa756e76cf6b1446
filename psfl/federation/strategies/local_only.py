"""``local-only``: no federation. The BS sends no model and combines nothing; each MU trains its
own student with ``MSE(x, x̂_s)`` and keeps it across rounds (an MU that receives no model trains
the one it kept, :class:`~psfl.federation.roles.MobileUserClient`). No bits travel, so the
communication energy is zero; the closing evaluation measures each MU's own student."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from psfl.federation.strategies.registry import (
    STRATEGIES,
    Aggregated,
    Instruction,
    Reply,
    State,
    Strategy,
    Weights,
)

if TYPE_CHECKING:
    from psfl.federation.channels import RoundChannel

__all__ = ["LocalOnly"]


@STRATEGIES.register("local-only", order=60)
class LocalOnly(Strategy):
    """Local training only (module docstring)."""

    aggregates = False

    def configure_train(self, server_round: int, arrays: Weights,
                        channels: Mapping[int, RoundChannel]) -> dict[int, Instruction]:
        """No model; the instructions alone (round, SNR, objective)."""
        return {mu: Instruction(None, self.train_config(server_round, ch, None, 0.0))
                for mu, ch in channels.items()}

    def aggregate_train(self, server_round: int, arrays: Weights, state: State,
                        plan: Mapping[int, Instruction], replies: Mapping[int, Reply]
                        ) -> Aggregated:
        """Nothing to combine: the global model stays as it is, every reply is fine."""
        return Aggregated(arrays, state, {mu: "ok" for mu in replies}, 0)

    def configure_evaluate(self, server_round: int, arrays: Weights,
                           channels: Mapping[int, RoundChannel]) -> dict[int, Instruction]:
        """No model: each MU evaluates its own student."""
        return {mu: Instruction(None, {"round": server_round, "snr_db": ch.snr_db})
                for mu, ch in channels.items()}
