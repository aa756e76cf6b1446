"""The BS's side of PSFL, without any framework (steps 1 and 3 of :mod:`psfl.federation.roles`).

Per round ``r``: :meth:`BaseStation.plan_round` draws every MU's channel
(:func:`..channels.draw_round_channels`) and, under AGP, chooses each MU's pruning ratio from its
downlink SNR and cuts the MU's copy from the dense global student; it returns a
:class:`RoundPlan`, which :meth:`BaseStation.finish_round` takes back with the MUs' replies to
screen the updates (NaN/Inf/shape → rejected and logged), aggregate (FedAvg weighted by data
size, masked under AGP, or a robust rule), account bits, airtime and energy per MU, and
checkpoint the round atomically (:mod:`..checkpoint`).

Energy accounting (per MU and round): downlink ``E = P_BS·b_down/R_down``, uplink
``E = P_MU·b_up/R_up`` with Shannon rates ``R = B·log2(1+SNR)`` (:mod:`psfl.phy.energy`);
computation ``E = κ·(FLOPs/φ)·f²`` with ``φ`` FLOPs per cycle, FLOPs counted from the cost table
(training step = 3× forward). ``b_down`` counts AGP's sparse index encoding
(:func:`..agp.model_bits`); the uplink update is sparse on the support the BS chose, so
``b_up`` counts values only.

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
from psfl.federation.aggregate import aggregate, check_update, update_weight
from psfl.federation.agp import apply_masks, choose_ratio, magnitude_masks, model_bits
from psfl.federation.channels import RoundChannel, draw_round_channels
from psfl.federation.checkpoint import CheckpointError, RunLayout, config_hash
from psfl.federation.models import initial_weights
from psfl.federation.population import MobileUser
from psfl.federation.roles.mobile_user import Payload
from psfl.federation.strategies import strategy_flags
from psfl.phy.energy import dbm_to_w, model_transfer_energy_j, shannon_rate

__all__ = ["BaseStation", "MuPlan", "RoundPlan"]


@dataclasses.dataclass(frozen=True)
class MuPlan:
    """What the BS chose for one MU in one round: its channel draw, and under AGP the masks of
    the copy it sent (``None``: dense) and their pruning ratio."""

    channel: RoundChannel
    masks: list[np.ndarray] | None
    ratio: float


@dataclasses.dataclass
class RoundPlan:
    """One round from planning to finishing: its number, each MU's :class:`MuPlan` and
    payload, and when it started (the round's wall time is measured from here). ``final``
    marks the closing evaluation."""

    round: int
    final: bool = False
    mus: dict[int, MuPlan] = dataclasses.field(default_factory=dict)
    payloads: dict[int, Payload] = dataclasses.field(default_factory=dict)
    started: float = dataclasses.field(default_factory=time.perf_counter)


class BaseStation:
    """The BS: channel draws, AGP, aggregation, accounting and round checkpoints.

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
        self.flags = strategy_flags(self.fed.strategy)
        self.layout = RunLayout(out_dir)
        self.dense = initial_weights(config)
        self.population: list[MobileUser] = []
        self.mu_rows: list[dict[str, Any]] = []
        self.round_rows: list[dict[str, Any]] = []
        self.completed = 0
        self.final_rows: list[dict[str, Any]] = []

    # -- checkpoints --------------------------------------------------------------------------
    def save(self) -> None:
        """Write the finished round as one atomic checkpoint, then its CSV series."""
        config = self.config.to_dict()
        self.layout.save(self.dense, {
            "completed_rounds": self.completed, "strategy": self.fed.strategy,
            "config": config, "config_hash": config_hash(config),
            "population": [dataclasses.asdict(p) for p in self.population],
            "mu_rows": self.mu_rows, "round_rows": self.round_rows,
            "final_rows": self.final_rows})
        self.layout.write_rows(self.round_rows, self.mu_rows)

    def restore(self) -> int:
        """Load the last finished round; returns the number of rounds already done (0 if none).

        Raises :class:`~psfl.federation.checkpoint.CheckpointError` (one line) when the
        checkpoint is unreadable, was made with another configuration (naming the keys), or
        holds more rounds than this configuration asks for.
        """
        loaded = self.layout.load()
        if loaded is None:
            return 0
        dense, state = loaded
        where = str(self.layout.checkpoint_dir)
        self.layout.check_config(state, self.config.to_dict())
        if check_update(dense, self.dense) is not None:
            raise CheckpointError(f"checkpoint in {where!r} does not match the student model "
                                  "of this configuration")
        done = int(state["completed_rounds"])
        if done > self.fed.rounds:
            raise CheckpointError(f"the run in {where!r} already finished {done} rounds; "
                                  f"federation.rounds = {self.fed.rounds} cannot undo them")
        self.dense = dense
        self.population = [MobileUser(**p) for p in state["population"]]
        self.mu_rows, self.round_rows = state["mu_rows"], state["round_rows"]
        # a closing evaluation counts only for the last round (more rounds may follow now)
        self.final_rows = state["final_rows"] if done == self.fed.rounds else []
        self.completed = done
        return done

    def _wasted_j(self, mu: int, metrics: dict[str, Any], when: str) -> float:
        """Energy MU ``mu`` reports as spent beyond what the BS has accounted for it (module
        docstring), logged when there is any."""
        if "spent_compute_energy_j" not in metrics:
            return 0.0
        accounted = sum((r.get("compute_energy_j") or 0.0) +
                        (r.get("wasted_compute_energy_j") or 0.0)
                        for r in self.mu_rows if r["mu"] == mu)
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

    def _energy_fn(self, power_dbm: float, snr_db: float) -> Callable[[float], float]:
        p_w, bw = float(dbm_to_w(power_dbm)), self.config.phy.noise_bandwidth_hz
        return lambda bits: float(model_transfer_energy_j(bits, p_w, bw, snr_db))

    def plan_round(self, rnd: int) -> RoundPlan:
        """Channels, AGP ratios and the payload for every MU of round ``rnd`` (1-based)."""
        fed = self.fed
        rng = np.random.default_rng([self.config.run.seed, rnd])
        channels = draw_round_channels(self.population, self.config.phy, fed.scenario,
                                       fed.bs_tx_power_dbm, rng)
        plan = RoundPlan(rnd)
        for mu, ch in zip(self.population, channels, strict=True):
            masks, ratio = None, 0.0
            if self.flags.agp:
                choice = choose_ratio(self.dense, self._energy_fn(fed.bs_tx_power_dbm,
                                                                  ch.downlink_snr_db),
                                      fed.agp_energy_budget_j, fed.agp_max_ratio,
                                      fed.agp_ratio_step, fed.weight_bits)
                ratio = choice["ratio"]
                masks = magnitude_masks(self.dense, ratio) if ratio > 0 else None
            arrays = None
            if self.flags.aggregate:
                arrays = apply_masks(self.dense, masks) if masks is not None else list(self.dense)
            plan.mus[mu.mu] = MuPlan(ch, masks, ratio)
            plan.payloads[mu.mu] = (arrays, {"round": rnd, "snr_db": ch.snr_db,
                                             "pruned": masks is not None, "prune_ratio": ratio})
        return plan

    def finish_round(self, plan: RoundPlan, replies: dict[int, Payload | BaseException | str]
                     ) -> dict[str, Any]:
        """Screen, aggregate, account and checkpoint the round of ``plan`` (from
        :meth:`plan_round`) given the MUs' replies; returns the round's row."""
        fed, rnd = self.fed, plan.round
        accepted, sizes, masks_used, rows = [], [], [], []
        for mu in self.population:
            mp = plan.mus[mu.mu]
            ch = mp.channel
            reply = replies.get(mu.mu, "no reply before the round timeout")
            row: dict[str, Any] = {"round": rnd, "mu": mu.mu, "distance_m": mu.distance_m,
                                   "snr_db": ch.snr_db, "downlink_snr_db": ch.downlink_snr_db,
                                   "los": int(ch.los), "prune_ratio": mp.ratio}
            status = "ok"
            if isinstance(reply, BaseException | str):
                status = f"failed: {reply}"
                metrics: dict[str, Any] = {}
            else:
                arrays, metrics = reply
                if self.flags.aggregate:
                    why = check_update(arrays, self.dense) if arrays is not None else "no model"
                    if why is not None:
                        status = f"rejected: {why}"
                    else:
                        accepted.append([np.asarray(a, np.float32) for a in arrays])
                        sizes.append(update_weight(metrics.get("num_samples", mu.num_samples),
                                                   mp.ratio, fed.agp_weighting))
                        masks_used.append(mp.masks)
            if status != "ok":
                self.log(f"round {rnd}: MU {mu.mu} {status}")
            row.update({k: v for k, v in metrics.items()
                        if k not in ("mu", "spent_compute_energy_j")})
            row["status"] = status
            row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, metrics, f"round {rnd}")
            row.update(self._account(mp, received=status == "ok" or
                                     status.startswith("rejected")))
            rows.append(row)
        if self.flags.aggregate and accepted:
            if any(m is not None for m in masks_used):
                ones = [np.ones_like(w, np.float32) for w in self.dense]
                masks_used = [m if m is not None else ones for m in masks_used]
            else:
                masks_used = None
            self.dense = aggregate(accepted, sizes, fed.aggregator, masks=masks_used,
                                   fallback=self.dense, trim_fraction=fed.trim_fraction,
                                   byzantine=fed.krum_byzantine)
        elif self.flags.aggregate:
            self.log(f"round {rnd}: no valid update; the global model is unchanged")
        gains = [f"MU {r['mu']} {r['mentor']} {r['mentor_gain_db']:+.2f}" for r in rows
                 if "mentor_gain_db" in r]
        if gains:
            self.log(f"round {rnd}: mentor PSNR minus the received student's on each MU's own "
                     f"test images [dB]: {', '.join(gains)}")
        summary = self._round_summary(rnd, rows, len(accepted))
        summary["round_s"] = time.perf_counter() - plan.started
        self.mu_rows.extend(rows)
        self.round_rows.append(summary)
        self.completed = rnd
        self.final_rows = []
        self.save()
        return summary

    def _account(self, mp: MuPlan, received: bool) -> dict[str, float]:
        fed, bw, ch = self.fed, self.config.phy.noise_bandwidth_hz, mp.channel
        if not self.flags.aggregate:
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
                "energy_down_j": self._energy_fn(fed.bs_tx_power_dbm, ch.downlink_snr_db)(
                    bits_down),
                "energy_up_j": self._energy_fn(self.config.phy.tx_power_dbm, ch.snr_db)(bits_up)}

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
        its own (number ``rounds + 1``, channels drawn anew, nothing pruned)."""
        rnd = self.fed.rounds + 1
        rng = np.random.default_rng([self.config.run.seed, rnd])
        channels = draw_round_channels(self.population, self.config.phy, self.fed.scenario,
                                       self.fed.bs_tx_power_dbm, rng)
        arrays = list(self.dense) if self.flags.aggregate else None
        plan = RoundPlan(rnd, final=True)
        for mu, ch in zip(self.population, channels, strict=True):
            plan.mus[mu.mu] = MuPlan(ch, None, 0.0)
            plan.payloads[mu.mu] = (arrays, {"round": rnd, "snr_db": ch.snr_db})
        return plan

    def finish_final(self, plan: RoundPlan,
                     replies: dict[int, dict[str, float] | BaseException | str]) -> None:
        """Record the closing evaluation of ``plan`` (from :meth:`final_plan`; one row per MU)
        and save it."""
        self.final_rows = []
        for mu in self.population:
            reply = replies.get(mu.mu, "no reply")
            row: dict[str, Any] = {"mu": mu.mu, "snr_db": plan.mus[mu.mu].channel.snr_db}
            if isinstance(reply, dict):
                row.update({k: v for k, v in reply.items() if k != "spent_compute_energy_j"})
                row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, reply, "final evaluation")
            else:
                row["status"] = f"failed: {reply}"
                self.log(f"final evaluation: MU {mu.mu} failed: {reply}")
            self.final_rows.append(row)
        self.save()
