"""The BS's side of PSFL, without any framework (steps 1 and 3 of :mod:`psfl.federation.roles`).

The BS holds the run: the population, the global student (dense), its strategy's server state,
the rows of every round. What it sends and how it combines the replies is its strategy's
(:class:`~psfl.federation.strategies.Strategy`, ``federation.strategy``).

Per round ``r``: :meth:`BaseStation.plan_round` draws every MU's channel
(:func:`..channels.draw_round_channels`) and asks the strategy's ``configure_train`` for each MU's
instruction (the model, pruned by AGP or not, and the objective); it returns a :class:`RoundPlan`,
which :meth:`BaseStation.finish_round` takes back with the MUs' replies: the strategy's
``aggregate_train`` screens the updates (NaN/Inf/shape → rejected) and makes the next global model
and server state; the BS logs, accounts bits, airtime and energy per MU, and checkpoints the round
atomically (:mod:`..checkpoint`).

Energy accounting (per MU and round): downlink ``E = P_BS·b_down/R_down``, uplink
``E = P_MU·b_up/R_up`` with Shannon rates ``R = B·log2(1+SNR)`` (:mod:`psfl.phy.energy`);
computation ``E = κ·(FLOPs/φ)·f²`` with ``φ`` FLOPs per cycle, FLOPs counted from the cost table
(training step = 3× forward). ``b_down`` counts AGP's sparse index encoding
(:func:`..agp.model_bits`); the uplink update is sparse on the support the BS chose, so
``b_up`` counts values only.

Client selection and the shared uplink (opt-in; the defaults cost every round as before):
``federation.clients_per_round``/``federation.selection`` pick the MUs that train in a round
from its channel draws (:mod:`..selection`; the draws of every MU are made, so the random
streams stay those of a run without selection), and the round's row gains the selection's bias;
``federation.uplink = "shared"`` schedules the replies' uploads on the carrier of psfl's cell
(:mod:`..uplink`): ``airtime_up_s`` and ``energy_up_j`` come from each MU's PRB share, power
and SINR, and the round's ``uplink_latency_s`` is the slowest MU's airtime.

Wasted work (ours): what an MU reports as spent beyond the energy the BS has accounted for that
MU is work the BS never received (a reply that came after the round timeout, a round run again
after a crash); it is counted in the round where the BS learns of it, as
``wasted_compute_energy_j``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.federation.aggregate import check_update
from psfl.federation.agp import model_bits
from psfl.federation.channels import RoundChannel, draw_round_channels, transfer_energy
from psfl.federation.checkpoint import CheckpointError, RunLayout, config_hash
from psfl.federation.models import initial_weights
from psfl.federation.population import MobileUser
from psfl.federation.roles.mobile_user import Payload
from psfl.federation.selection import select_mus, selection_bias
from psfl.federation.strategies import STRATEGIES, Instruction, Reply, Strategy
from psfl.phy.energy import shannon_rate

__all__ = ["BaseStation", "MuPlan", "RoundPlan"]


@dataclasses.dataclass(frozen=True)
class MuPlan:
    """What the BS chose for one MU in one round: its channel draw and the strategy's
    :class:`~psfl.federation.strategies.Instruction` (the model sent, its masks and ratio)."""

    channel: RoundChannel
    instruction: Instruction

    @property
    def masks(self) -> list[np.ndarray] | None:
        """The support of the model sent (``None``: dense)."""
        return self.instruction.masks

    @property
    def ratio(self) -> float:
        """Its pruning ratio."""
        return self.instruction.ratio


@dataclasses.dataclass
class RoundPlan:
    """One round from planning to finishing: its number, each MU's :class:`MuPlan`, and when it
    started (the round's wall time is measured from here). ``final`` marks the closing
    evaluation; ``selection`` the selection's bias (:func:`..selection.selection_bias`), empty
    when every MU trains."""

    round: int
    final: bool = False
    mus: dict[int, MuPlan] = dataclasses.field(default_factory=dict)
    started: float = dataclasses.field(default_factory=time.perf_counter)
    selection: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def payloads(self) -> dict[int, Payload]:
        """What travels to each MU: ``(arrays, config)``."""
        return {mu: (p.instruction.arrays, p.instruction.config) for mu, p in self.mus.items()}

    @property
    def instructions(self) -> dict[int, Instruction]:
        """The strategy's instruction to each MU."""
        return {mu: p.instruction for mu, p in self.mus.items()}


class BaseStation:
    """The BS: channel draws, its strategy's rounds, accounting and round checkpoints.

    Parameters
    ----------
    config
        The run configuration.
    out_dir
        Run directory (laid out by :class:`~psfl.federation.checkpoint.RunLayout`).
    log
        Receives one line per notable event (rejected update, failed MU, round summary).
    """

    def __init__(self, config: Config, out_dir: str | Path,
                 log: Callable[[str], None] = print):
        self.config, self.log = config, log
        self.fed = config.federation
        from psfl.federation.uplink import check_uplink

        check_uplink(config)  # before anything is built or written
        self.strategy: Strategy = STRATEGIES.build(self.fed.strategy, config, log=log)
        self.layout = RunLayout(out_dir)
        self.dense = initial_weights(config)
        self.server_state = self.strategy.initial_state(self.dense)
        self.population: list[MobileUser] = []
        self.mu_rows: list[dict[str, Any]] = []
        self.round_rows: list[dict[str, Any]] = []
        self.completed = 0
        self.final_rows: list[dict[str, Any]] = []
        self._carrier: Any = None  # the shared carrier, built at the first shared round

    # -- checkpoints --------------------------------------------------------------------------
    def save(self) -> None:
        """Write the finished round as one atomic checkpoint, then its CSV series."""
        config = self.config.to_dict()
        self.layout.save(self.dense, {
            "completed_rounds": self.completed, "strategy": self.fed.strategy,
            "config": config, "config_hash": config_hash(config),
            "population": [dataclasses.asdict(p) for p in self.population],
            "mu_rows": self.mu_rows, "round_rows": self.round_rows,
            "final_rows": self.final_rows}, server=self.server_state)
        self.layout.write_rows(self.round_rows, self.mu_rows)

    def restore(self) -> int:
        """Load the last finished round; returns the number of rounds already done (0 if none).

        Raises :class:`~psfl.federation.checkpoint.CheckpointError` (one line) when the
        checkpoint is unreadable, was made with another configuration (naming the keys), or
        holds more rounds than this configuration asks for.
        """
        loaded = self.layout.load_round()
        if loaded is None:
            return 0
        dense, state = loaded.arrays, loaded.state
        where = str(self.layout.checkpoint_dir)
        self.layout.check_config(state, self.config.to_dict())
        if check_update(dense, self.dense) is not None:
            raise CheckpointError(f"checkpoint in {where!r} does not match the student model "
                                  "of this configuration")
        for name, values in loaded.server.items():
            if name not in self.strategy.server_state or check_update(values, dense):
                raise CheckpointError(f"checkpoint in {where!r} holds a server state {name!r} "
                                      f"that strategy {self.fed.strategy!r} does not keep")
        done = int(state["completed_rounds"])
        if done > self.fed.rounds:
            raise CheckpointError(f"the run in {where!r} already finished {done} rounds; "
                                  f"federation.rounds = {self.fed.rounds} cannot undo them")
        self.dense = dense
        self.server_state = loaded.server or self.strategy.initial_state(dense)
        self.population = [MobileUser(**p) for p in state["population"]]
        self.mu_rows, self.round_rows = state["mu_rows"], state["round_rows"]
        # a closing evaluation counts only for the last round (more rounds may follow now)
        self.final_rows = state["final_rows"] if done == self.fed.rounds else []
        self.completed = done
        return done

    def _accounted_j(self) -> dict[int, float]:
        """Computation energy the BS has accounted for each MU so far (its rows' computation
        and wasted energy, summed in the order of the rows): one pass over the rows per round,
        not one per MU."""
        out: dict[int, float] = {}
        for r in self.mu_rows:
            out[r["mu"]] = out.get(r["mu"], 0.0) + ((r.get("compute_energy_j") or 0.0) +
                                                    (r.get("wasted_compute_energy_j") or 0.0))
        return out

    def _wasted_j(self, mu: int, metrics: dict[str, Any], when: str, accounted: float) -> float:
        """Energy MU ``mu`` reports as spent beyond the ``accounted`` energy (from
        :meth:`_accounted_j`; module docstring), logged when there is any."""
        if "spent_compute_energy_j" not in metrics:
            return 0.0
        extra = (float(metrics["spent_compute_energy_j"]) - accounted
                 - float(metrics.get("compute_energy_j", 0.0)))
        if extra <= 1e-9 * max(1.0, accounted):
            return 0.0
        self.log(f"{when}: MU {mu} spent {extra:.3g} J on work the BS never received (a reply "
                 "after the timeout, or a round run again after a crash); counted as wasted")
        return extra

    # -- round logic --------------------------------------------------------------------------
    def register(self, infos: list[dict[str, Any]]) -> None:
        """Build the population from the MUs' registration replies (sorted by MU index)."""
        infos = sorted(infos, key=lambda d: int(d["mu"]))
        self.population = [MobileUser(mu=int(d["mu"]), distance_m=float(d["distance_m"]),
                                      memory_bytes=0.0, compute_flops=0.0,
                                      num_samples=int(d["num_samples"])) for d in infos]

    def _channels(self, rnd: int) -> dict[int, RoundChannel]:
        """Every MU's channel in round ``rnd``, drawn from (run seed, round) alone."""
        rng = np.random.default_rng([self.config.run.seed, rnd])
        channels = draw_round_channels(self.population, self.config.phy, self.fed.scenario,
                                       self.fed.bs_tx_power_dbm, rng)
        return {mu.mu: ch for mu, ch in zip(self.population, channels, strict=True)}

    @staticmethod
    def _plan(rnd: int, channels: dict[int, RoundChannel],
              instructions: dict[int, Instruction], final: bool = False) -> RoundPlan:
        return RoundPlan(rnd, final, {mu: MuPlan(ch, instructions[mu])
                                      for mu, ch in channels.items()})

    def plan_round(self, rnd: int) -> RoundPlan:
        """Channels, the MUs selected (``federation.selection``; all by default) and the
        strategy's instruction (``configure_train``) for each of them in round ``rnd``
        (1-based)."""
        channels = self._channels(rnd)
        bias: dict[str, float] = {}
        if self.fed.selection != "all":
            snr = {mu: ch.snr_db for mu, ch in channels.items()}
            chosen = select_mus(self.fed.selection, self.fed.clients_per_round, snr,
                                seed=self.config.run.seed, rnd=rnd)
            bias = selection_bias(chosen, snr, {p.mu: p.distance_m for p in self.population})
            channels = {mu: channels[mu] for mu in chosen}
        plan = self._plan(rnd, channels, self.strategy.configure_train(rnd, self.dense,
                                                                       channels))
        plan.selection = bias
        return plan

    def finish_round(self, plan: RoundPlan, replies: dict[int, Payload | BaseException | str]
                     ) -> dict[str, Any]:
        """The round of ``plan`` (from :meth:`plan_round`) given the MUs' replies: the strategy
        aggregates (``aggregate_train``); the BS logs, accounts and checkpoints; returns the
        round's row."""
        rnd = plan.round
        metrics_of: dict[int, dict[str, Any]] = {}
        failed: dict[int, str] = {}
        received: dict[int, Reply] = {}
        members = [mu for mu in self.population if mu.mu in plan.mus]  # the selected MUs
        for mu in members:
            reply = replies.get(mu.mu, "no reply before the round timeout")
            if isinstance(reply, BaseException | str):
                failed[mu.mu], metrics_of[mu.mu] = f"failed: {reply}", {}
            else:
                arrays, metrics_of[mu.mu] = reply
                received[mu.mu] = Reply(arrays, metrics_of[mu.mu].get("num_samples",
                                                                      mu.num_samples))
        out = self.strategy.aggregate_train(rnd, self.dense, self.server_state,
                                            plan.instructions, received)
        rows, accounted = [], self._accounted_j()
        for mu in members:
            mp, metrics = plan.mus[mu.mu], metrics_of[mu.mu]
            ch = mp.channel
            row: dict[str, Any] = {"round": rnd, "mu": mu.mu, "distance_m": mu.distance_m,
                                   "snr_db": ch.snr_db, "downlink_snr_db": ch.downlink_snr_db,
                                   "los": int(ch.los), "prune_ratio": mp.ratio}
            status = failed.get(mu.mu) or out.status.get(mu.mu, "ok")
            if status != "ok":
                self.log(f"round {rnd}: MU {mu.mu} {status}")
            row.update({k: v for k, v in metrics.items()
                        if k not in ("mu", "spent_compute_energy_j")})
            row["status"] = status
            row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, metrics, f"round {rnd}",
                                                            accounted.get(mu.mu, 0.0))
            row.update(self._account(mp, received=mu.mu in received))
            rows.append(row)
        extra = dict(plan.selection)
        if self.fed.uplink == "shared":
            extra.update(self._share_uplink(rows))
        if extra:
            extra["uplink_latency_s"] = max((r["airtime_up_s"] for r in rows), default=0.0)
        self.dense, self.server_state = out.arrays, out.state
        gains = [f"MU {r['mu']} {r['mentor']} {r['mentor_gain_db']:+.2f}" for r in rows
                 if "mentor_gain_db" in r]
        if gains:
            self.log(f"round {rnd}: mentor PSNR minus the received student's on each MU's own "
                     f"test images [dB]: {', '.join(gains)}")
        summary = self._round_summary(rnd, rows, out.accepted)
        summary.update(extra)
        summary["round_s"] = time.perf_counter() - plan.started
        self.mu_rows.extend(rows)
        self.round_rows.append(summary)
        self.completed = rnd
        self.final_rows = []
        self.save()
        return summary

    def _account(self, mp: MuPlan, received: bool) -> dict[str, float]:
        """Bits, airtime and energy of the model sent to the MU of ``mp`` and, when it
        ``received`` a reply, of the update on the same support; nothing when no model went."""
        fed, bw, ch = self.fed, self.config.phy.noise_bandwidth_hz, mp.channel
        if mp.instruction.arrays is None:
            return {"bits_down": 0.0, "bits_up": 0.0, "airtime_down_s": 0.0, "airtime_up_s": 0.0,
                    "energy_down_j": 0.0, "energy_up_j": 0.0}
        masks = mp.masks
        bits_down = float(model_bits(self.dense, masks, fed.weight_bits))
        kept = (sum(int(np.count_nonzero(m)) for m in masks) if masks is not None
                else sum(int(np.size(w)) for w in self.dense))
        bits_up = float(kept * fed.weight_bits) if received else 0.0
        r_down = float(shannon_rate(bw, ch.downlink_snr_db))
        r_up = float(shannon_rate(bw, ch.snr_db))
        return {"bits_down": bits_down, "bits_up": bits_up,
                "airtime_down_s": bits_down / r_down, "airtime_up_s": bits_up / r_up,
                "energy_down_j": transfer_energy(self.config.phy, fed.bs_tx_power_dbm,
                                                 ch.downlink_snr_db)(bits_down),
                "energy_up_j": transfer_energy(self.config.phy, self.config.phy.tx_power_dbm,
                                               ch.snr_db)(bits_up)}

    def _share_uplink(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """The uploads of ``rows`` scheduled on the shared carrier (:mod:`..uplink`): each
        row's ``airtime_up_s`` and ``energy_up_j`` replaced, its PRB share, mean PRBs, power
        and SINR added; returns the round's carrier figures."""
        from psfl.federation.uplink import schedule_uploads, shared_carrier

        if self._carrier is None:
            self._carrier = shared_carrier(self.config)
        carrier = self._carrier
        out = schedule_uploads(np.array([r["bits_up"] for r in rows], np.float64),
                               np.array([r["snr_db"] for r in rows], np.float64), carrier,
                               self.config.cell, self.config.phy)
        held = out["num_prbs"]
        for i, row in enumerate(rows):
            slots = int(np.count_nonzero(held[:, i]))
            row.update({"airtime_up_s": float(out["airtime_s"][i]),
                        "energy_up_j": float(out["energy_j"][i]),
                        "uplink_prb_share": float(out["prb_share"][i]),
                        "uplink_prbs": float(held[:, i].sum() / slots) if slots else 0.0,
                        "uplink_power_dbm": float(out["mean_power_dbm"][i]),
                        "uplink_sinr_db": float(out["mean_sinr_db"][i]),
                        "uplink_slots": int(out["num_slots"][i])})
        return {"uplink_slots": int(out["owner"].shape[0]), "uplink_inr": carrier.inr}

    @staticmethod
    def _round_summary(rnd: int, rows: list[dict[str, Any]], n_ok: int) -> dict[str, Any]:
        def mean(key: str) -> float:
            vals = [r[key] for r in rows if isinstance(r.get(key), int | float)]
            return float(np.mean(vals)) if vals else float("nan")

        def total(key: str) -> float:
            return float(sum(r.get(key, 0.0) or 0.0 for r in rows))

        return {"round": rnd, "accepted": n_ok,
                "rejected": sum(r["status"].startswith("rejected") for r in rows),
                "failed": sum(r["status"].startswith("failed") for r in rows),
                "received_global_psnr": mean("received_global_psnr"),
                "received_own_psnr": mean("received_own_psnr"),
                "personal_psnr": mean("personal_psnr"), "personal_ssim": mean("personal_ssim"),
                "mean_prune_ratio": mean("prune_ratio"),
                "mentor_gain_db": mean("mentor_gain_db"),
                "bits_down": total("bits_down"), "bits_up": total("bits_up"),
                "comm_energy_j": total("energy_down_j") + total("energy_up_j"),
                "mu_comm_energy_j": total("energy_up_j"),
                "compute_energy_j": total("compute_energy_j") + total("wasted_compute_energy_j"),
                "wasted_compute_energy_j": total("wasted_compute_energy_j"),
                "mu_train_s": total("train_s")}

    def final_plan(self) -> RoundPlan:
        """The closing evaluation of the final global model at each MU, planned as a round of
        its own (number ``rounds + 1``, channels drawn anew; the strategy's
        ``configure_evaluate``)."""
        rnd = self.fed.rounds + 1
        channels = self._channels(rnd)
        return self._plan(rnd, channels,
                          self.strategy.configure_evaluate(rnd, self.dense, channels), final=True)

    def finish_final(self, plan: RoundPlan,
                     replies: dict[int, dict[str, float] | BaseException | str]) -> None:
        """Record the closing evaluation of ``plan`` (from :meth:`final_plan`; one row per MU)
        and save it."""
        self.final_rows, accounted = [], self._accounted_j()
        for mu in self.population:
            reply = replies.get(mu.mu, "no reply")
            row: dict[str, Any] = {"mu": mu.mu, "snr_db": plan.mus[mu.mu].channel.snr_db}
            if isinstance(reply, dict):
                row.update({k: v for k, v in reply.items() if k != "spent_compute_energy_j"})
                row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, reply, "final evaluation",
                                                                accounted.get(mu.mu, 0.0))
            else:
                row["status"] = f"failed: {reply}"
                self.log(f"final evaluation: MU {mu.mu} failed: {reply}")
            self.final_rows.append(row)
        self.save()
