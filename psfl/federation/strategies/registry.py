"""The strategies' registry (:data:`STRATEGIES`) and their base (:class:`Strategy`): Flower's shape
over psfl's framework-free roles.

A strategy decides what the BS sends each MU in a round and how the BS combines what comes back,
as a Flower ``Strategy`` (``flwr.serverapp.strategy``) does, but over plain payloads: the BS
(:class:`~psfl.federation.roles.BaseStation`) draws the channels, asks its strategy, accounts and
checkpoints; the MU (:class:`~psfl.federation.roles.MobileUserClient`) follows the instructions it
receives, so an MU needs no strategy of its own.

Per round ``r``:

* :meth:`Strategy.configure_train` — for every MU an :class:`Instruction`: the model (pruned by
  AGP, dense, or none), the scalars sent with it (round, SNR, pruning, the student's local
  objective), and what the BS keeps of it for the aggregation (the masks and ratio). The
  instructions are the round's plan, handed back to the aggregation as a value.
* :meth:`Strategy.aggregate_train` — the plan, the MUs' replies (:class:`Reply`) and the
  strategy's server state → :class:`Aggregated`: the next global model, the next server state
  (saved in the round checkpoint, :mod:`psfl.federation.checkpoint`), each reply's status.
* :meth:`Strategy.configure_evaluate` / :meth:`Strategy.aggregate_evaluate` — the closing
  evaluation of the final global model (each MU evaluates the model it receives inside its
  training step, so the rounds need no evaluation of their own).

The MU-side hook is the instruction ``objective`` (:meth:`Strategy.train_config`), one of
:data:`psfl.federation.local.OBJECTIVES`: ``mse``; ``prox``, FedProx's
``MSE + μ/2·‖w − w_global‖²``; ``pld``, train the MU's persistent mentor and distil it into the
student (PLD). A strategy names it in :attr:`Strategy.objective`.

Capabilities are class attributes (:class:`Strategy`), read by the configuration, ``psfl study``
and the report. Imports nothing heavy: the methods import what they use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from psfl.registry import Registry

if TYPE_CHECKING:
    from psfl.config import Config
    from psfl.federation.channels import RoundChannel

__all__ = ["STRATEGIES", "Aggregated", "Instruction", "Reply", "State", "Strategy", "Update",
           "Weights"]

#: A model: a list of NumPy arrays in the order of ``keras.Model.get_weights()``.
Weights = list[np.ndarray]
#: A strategy's server state: named lists of arrays (FedAdam's ``m`` and ``v``), empty for most.
State = dict[str, Weights]


@dataclasses.dataclass(frozen=True)
class Instruction:
    """What the BS sends one MU in one round, and what it keeps of it for the aggregation.

    Attributes
    ----------
    arrays : the model sent (pruned under AGP); ``None``: no model (the MU trains its own)
    config : the scalars sent with it (Flower's ConfigRecord)
    masks : the support of the model sent (1 kept, 0 pruned); ``None``: dense
    ratio : its pruning ratio
    """

    arrays: Weights | None
    config: dict[str, Any]
    masks: Weights | None = None
    ratio: float = 0.0


@dataclasses.dataclass(frozen=True)
class Reply:
    """What one MU sent back from its training step: its model (or ``None``) and the number of
    samples behind it (Flower's ``num-examples``)."""

    arrays: Weights | None
    num_samples: float


@dataclasses.dataclass(frozen=True)
class Update:
    """An accepted update: the MU's model, its aggregation weight and the masks it trained on."""

    arrays: Weights
    weight: float
    masks: Weights | None


@dataclasses.dataclass(frozen=True)
class Aggregated:
    """The outcome of :meth:`Strategy.aggregate_train`.

    Attributes
    ----------
    arrays : the next global model
    state : the next server state
    status : per MU that replied, ``"ok"`` or ``"rejected: <why>"``
    accepted : updates that entered the new global model
    """

    arrays: Weights
    state: State
    status: dict[int, str]
    accepted: int


class Strategy:
    """Base of every strategy: the rounds of psfl's BS, in Flower's shape (module docstring).

    The base implements what the strategies share: AGP's per-MU pruning when :attr:`uses_agp`,
    the student's objective as an instruction, screening of the replies (NaN/Inf, missing
    tensors, wrong shapes) and the weighted, masked or robust aggregation of
    ``federation.aggregator`` (:func:`psfl.federation.aggregate.aggregate`). A strategy is a small
    subclass in a module of its own, registered with ``@STRATEGIES.register(name)``.

    Parameters
    ----------
    config
        The run configuration.
    log
        Receives one line per notable event (an unchanged global model).
    """

    #: The MUs train a persistent mentor and distil it into the student (PLD).
    uses_pld: ClassVar[bool] = False
    #: The BS prunes each MU's copy by its downlink channel (AGP).
    uses_agp: ClassVar[bool] = False
    #: The student's local objective, sent to the MUs: ``mse``, ``prox`` or ``pld``.
    objective: ClassVar[str] = "mse"
    #: The BS sends a global model and combines the MUs' updates (``False``: local training).
    aggregates: ClassVar[bool] = True
    #: Names of the server state's arrays, kept in the round checkpoint (FedAdam: ``m``, ``v``).
    server_state: ClassVar[tuple[str, ...]] = ()
    #: ``psfl study`` runs it when no ``--strategies`` are given (the paper's arms).
    in_default_study: ClassVar[bool] = True

    def __init__(self, config: Config, log: Callable[[str], None] | None = None):
        self.config, self.fed = config, config.federation
        self.log = log if log is not None else (lambda message: None)

    # -- state --------------------------------------------------------------------------------
    def initial_state(self, arrays: Weights) -> State:
        """The server state before the first round (none by default)."""
        return {}

    # -- training rounds ----------------------------------------------------------------------
    def configure_train(self, server_round: int, arrays: Weights,
                        channels: Mapping[int, RoundChannel]) -> dict[int, Instruction]:
        """Per MU (keys of ``channels``, this round's draws): the model sent, pruned to the
        MU's channel under AGP, and its instructions."""
        from psfl.federation.agp import apply_masks

        out = {}
        for mu, channel in channels.items():
            masks, ratio = self.prune(arrays, channel)
            sent = apply_masks(arrays, masks) if masks is not None else list(arrays)
            out[mu] = Instruction(sent, self.train_config(server_round, channel, masks, ratio),
                                  masks, ratio)
        return out

    def train_config(self, server_round: int, channel: RoundChannel,
                     masks: Weights | None, ratio: float) -> dict[str, Any]:
        """The scalars sent with an MU's model: round, SNR, pruning, and the objective the MU
        trains the student with (the MU-side hook, module docstring)."""
        return {"round": server_round, "snr_db": channel.snr_db, "pruned": masks is not None,
                "prune_ratio": ratio, "objective": self.objective}

    def prune(self, arrays: Weights, channel: RoundChannel) -> tuple[Weights | None, float]:
        """AGP (:mod:`psfl.federation.agp`) under :attr:`uses_agp`: the smallest pruning ratio
        whose downlink transfer energy fits ``federation.agp_energy_budget_j``, and its
        magnitude masks (``None`` when nothing is pruned); else ``(None, 0.0)``."""
        if not self.uses_agp:
            return None, 0.0
        from psfl.federation.agp import choose_ratio, magnitude_masks
        from psfl.federation.channels import transfer_energy

        fed = self.fed
        energy = transfer_energy(self.config.phy, fed.bs_tx_power_dbm, channel.downlink_snr_db)
        ratio = choose_ratio(arrays, energy, fed.agp_energy_budget_j, fed.agp_max_ratio,
                             fed.agp_ratio_step, fed.weight_bits)["ratio"]
        return (magnitude_masks(arrays, ratio) if ratio > 0 else None), ratio

    def aggregate_train(self, server_round: int, arrays: Weights, state: State,
                        plan: Mapping[int, Instruction], replies: Mapping[int, Reply]
                        ) -> Aggregated:
        """The next global model from the replies (MUs that failed are not in ``replies``) to
        the instructions ``plan`` of :meth:`configure_train`."""
        updates, status = self.screen(arrays, plan, replies)
        if not updates:
            self.log(f"round {server_round}: no valid update; the global model is unchanged")
            return Aggregated(arrays, state, status, 0)
        return Aggregated(self.combine(arrays, updates), state, status, len(updates))

    def screen(self, arrays: Weights, plan: Mapping[int, Instruction],
               replies: Mapping[int, Reply]) -> tuple[list[Update], dict[int, str]]:
        """The accepted updates (in the order of ``replies``) with their aggregation weights
        (:func:`~psfl.federation.aggregate.update_weight`), and each reply's status."""
        from psfl.federation.aggregate import check_update, update_weight

        updates, status = [], {}
        for mu, reply in replies.items():
            why = check_update(reply.arrays, arrays) if reply.arrays is not None else "no model"
            status[mu] = "ok" if why is None else f"rejected: {why}"
            if why is None:
                updates.append(Update([np.asarray(a, np.float32) for a in reply.arrays],
                                      update_weight(reply.num_samples, plan[mu].ratio,
                                                    self.fed.agp_weighting), plan[mu].masks))
        return updates, status

    def combine(self, arrays: Weights, updates: list[Update]) -> Weights:
        """``federation.aggregator`` over ``updates``, masked where any MU trained a pruned
        model (an entry no MU holds keeps its value in ``arrays``)."""
        from psfl.federation.aggregate import aggregate

        masks: list[Weights] | None = None
        if any(u.masks is not None for u in updates):
            ones = [np.ones_like(w, np.float32) for w in arrays]
            masks = [u.masks if u.masks is not None else ones for u in updates]
        fed = self.fed
        return aggregate([u.arrays for u in updates], [u.weight for u in updates],
                         fed.aggregator, masks=masks, fallback=arrays,
                         trim_fraction=fed.trim_fraction, byzantine=fed.krum_byzantine)

    # -- closing evaluation -------------------------------------------------------------------
    def configure_evaluate(self, server_round: int, arrays: Weights,
                           channels: Mapping[int, RoundChannel]) -> dict[int, Instruction]:
        """Per MU: the final global model (dense) and the SNR to evaluate it at."""
        return {mu: Instruction(list(arrays), {"round": server_round, "snr_db": ch.snr_db})
                for mu, ch in channels.items()}

    def aggregate_evaluate(self, server_round: int, replies: Mapping[int, Mapping[str, Any]]
                           ) -> dict[str, float]:
        """Means over the MUs that answered of the quality they measured (PSNR, SSIM)."""
        out = {}
        for key in ("global_psnr", "own_psnr", "global_ssim", "own_ssim"):
            values = [float(r[key]) for r in replies.values() if key in r]
            if values:
                out[key] = sum(values) / len(values)
        return out


#: Every training strategy, one module each in this package (``federation.strategy``).
STRATEGIES = Registry("strategy", "psfl.federation.strategies",
                      setting="federation.strategy (--strategy)", base=Strategy)
