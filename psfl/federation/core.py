"""The two roles of PSFL without any framework: the BS (:class:`BaseStation`) and an MU
(:class:`MobileUserClient`). Flower's ServerApp/ClientApp (:mod:`.apps`) and the bare loop
(:func:`run_loop`) only move their payloads around.

A payload is ``(arrays, config)``: a list of NumPy arrays (or ``None``) and a flat dict of
scalars, which maps one-to-one onto Flower's ``ArrayRecord`` and ``ConfigRecord``.

Per round ``r``:

1. BS: draw every MU's channel (:func:`.channels.draw_round_channels`); under AGP choose each
   MU's pruning ratio from its downlink SNR and cut the MU's copy from the dense global student.
2. MU: evaluate the received global student on its own and on the global test split; under PLD
   train its persistent mentor (the largest GSC its resources allow) and distil it into the
   student, else train the student alone (MSE, or FedProx); evaluate the personalized student.
3. BS: screen the updates (NaN/Inf/shape → rejected and logged), aggregate (FedAvg weighted by
   data size, masked under AGP, or a robust rule), account bits, airtime and energy per MU, and
   checkpoint the round atomically (:mod:`.checkpoint`).

Energy accounting (per MU and round): downlink ``E = P_BS·b_down/R_down``, uplink
``E = P_MU·b_up/R_up`` with Shannon rates ``R = B·log2(1+SNR)`` (:mod:`psfl.phy.energy`);
computation ``E = κ·(FLOPs/φ)·f²`` with ``φ`` FLOPs per cycle, FLOPs counted from the cost table
(training step = 3× forward). ``b_down`` counts AGP's sparse index encoding
(:func:`.agp.model_bits`); the uplink update is sparse on the support the BS chose, so
``b_up`` counts values only.

Wasted work (ours): every MU keeps a running total of the computation energy it has spent and
reports it with each reply. What exceeds the energy the BS has accounted for that MU is work the
BS never received (a reply that came after the round timeout, a round run again after a crash);
it is counted in the round where the BS learns of it, as ``wasted_compute_energy_j``.
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
from psfl.federation.agp import apply_masks, choose_ratio, magnitude_masks, model_bits, prunable
from psfl.federation.channels import RoundChannel, draw_round_channels
from psfl.federation.checkpoint import CheckpointError, MuState, RunLayout, config_hash
from psfl.federation.mentor import select_mentor
from psfl.federation.models import SharedModels, initial_weights
from psfl.federation.population import MobileUser, make_population
from psfl.phy import compute_energy_j, dbm_to_w, model_transfer_energy_j, shannon_rate

__all__ = ["BaseStation", "MobileUserClient", "run_loop", "strategy_flags"]

Payload = tuple[list[np.ndarray] | None, dict[str, Any]]
#: Training images of an MU on which the round-gate compares mentor and student.
GATE_IMAGES = 64


@dataclasses.dataclass(frozen=True)
class StrategyFlags:
    pld: bool
    agp: bool
    objective: str
    aggregate: bool


def strategy_flags(name: str) -> StrategyFlags:
    """What each strategy does (see :data:`psfl.federation.config.STRATEGIES`)."""
    table = {
        "psfl": StrategyFlags(pld=True, agp=True, objective="pld", aggregate=True),
        "psfl-no-pld": StrategyFlags(pld=False, agp=True, objective="mse", aggregate=True),
        "psfl-no-agp": StrategyFlags(pld=True, agp=False, objective="pld", aggregate=True),
        "fedavg-csc": StrategyFlags(pld=False, agp=False, objective="mse", aggregate=True),
        "fedprox-csc": StrategyFlags(pld=False, agp=False, objective="prox", aggregate=True),
        "local-only": StrategyFlags(pld=False, agp=False, objective="mse", aggregate=False),
    }
    if name not in table:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(table)}")
    return table[name]


# ----------------------------------------------------------------------------------------- MU


class MobileUserClient:
    """One MU: its data, channel link, persistent mentor, and the local step of each round.

    Parameters
    ----------
    config
        The run configuration (every MU derives its share of the data and its resources from it
        and its index, as a real MU would hold them).
    mu
        MU index (Flower's ``partition-id``).
    state_dir
        Where the MUs keep what persists across rounds and crashes (this MU's folder in it is a
        :class:`~psfl.federation.checkpoint.MuState`: mentor, local-only student, energy spent).
    """

    def __init__(self, config: Config, mu: int, state_dir: str | Path):
        from psfl.data import load_images, partition

        self.config, self.mu = config, mu
        fed, data = config.federation, config.data
        if not 0 <= mu < data.num_mus:
            raise ValueError(f"MU index {mu} outside 0…{data.num_mus - 1} (data.num_mus)")
        self.flags = strategy_flags(fed.strategy)
        self.state = MuState(Path(state_dir) / f"mu{mu}")
        seed = config.run.seed
        train, test = load_images(data, seed=seed)
        parts = partition(train.labels, data.num_mus, data.partition, data.alpha, seed=seed)
        self.images = train.images[parts[mu]]
        self.global_test = test.cap(fed.eval_images, seed + 2).images
        self.own_test = self._own_test(train.labels[parts[mu]], test, fed.eval_images, seed + mu)
        self.user: MobileUser = make_population(
            [len(p) for p in parts], min_distance_m=fed.min_distance_m,
            max_distance_m=fed.max_distance_m, memory_mb=fed.memory_mb,
            compute_gflop=fed.compute_gflop_per_round, seed=seed)[mu]
        self.shared = SharedModels.get(config)
        self.student = self.shared.student
        self.mentor_choice: dict[str, Any] | None = None

    @staticmethod
    def _own_test(train_labels: np.ndarray, test, n: int, seed: int) -> np.ndarray:
        """Test images drawn with the MU's own label mix (its 'own test split')."""
        hist = np.bincount(train_labels, minlength=len(test.label_names)).astype(float)
        p = hist[test.labels]
        p = p / p.sum() if p.sum() > 0 else None
        size = min(n or len(test), len(test) if p is None else int(np.count_nonzero(p)))
        idx = np.random.default_rng(seed).choice(len(test), size=size, replace=False, p=p)
        return test.images[np.sort(idx)]

    # -- persistent mentor --------------------------------------------------------------------
    def mentor(self, rnd: int):
        """This MU's mentor as it was before round ``rnd``: the shared model of its chosen
        preset, holding this MU's weights."""
        if self.mentor_choice is None:
            cfg = self.config
            self.mentor_choice = select_mentor(self.shared.mentor_costs(), self.user,
                                               cfg.semantic.batch_size,
                                               cfg.federation.mentor_steps)
        name = self.mentor_choice["name"]
        model = self.shared.mentor(name)
        path = self.state.before("mentor", rnd)
        if path is not None:
            model.load_weights(path)
        else:  # a new mentor, not the weights another MU left in the shared model
            model.set_weights(self.shared.initial_mentor_weights(name))
        return model

    def _reseed(self, rnd: int, purpose: str) -> None:
        """Channel draws of this MU's step as a function of (run seed, MU, round, purpose)
        alone, not of what the process ran before: a round run again after a crash, in a new
        process, draws what it drew the first time (Sionna's generator is reset in place, so
        traced functions see it)."""
        from sionna.phy import config as sionna_config

        from psfl.seeding import derive_seed

        sionna_config.seed = derive_seed(self.config.run.seed, f"mu{self.mu}-r{rnd}-{purpose}")

    def _spend(self, flops: float) -> float:
        """Account ``flops`` of work as spent energy at once (a crash later cannot unspend it);
        returns the MU's running total."""
        fed = self.config.federation
        return self.state.spend(float(compute_energy_j(flops / fed.flops_per_cycle, fed.cpu_hz,
                                                       fed.kappa)))

    # -- one round ----------------------------------------------------------------------------
    def register(self) -> dict[str, Any]:
        """What the MU tells the BS when it joins: index, position and data size."""
        return {"mu": self.mu, "distance_m": self.user.distance_m,
                "num_samples": len(self.images)}

    def _load_global(self, arrays: list[np.ndarray] | None, rnd: int) -> None:
        if self.flags.aggregate:
            if arrays is None:
                raise ValueError("the BS sent no model")
            self.student.set_weights(arrays)
        elif (own := self.state.before("student", rnd)) is not None:
            self.student.load_weights(own)
        else:  # a local-only MU's first round: not the weights another MU left in the model
            self.student.set_weights(self.shared.initial_student)

    def evaluate(self, arrays: list[np.ndarray] | None, cfg: dict[str, Any]) -> dict[str, float]:
        """Quality of the received model at this MU's SNR, own and global test split, and the
        computation energy the MU has spent so far."""
        self._load_global(arrays, int(cfg["round"]))
        self._reseed(int(cfg["round"]), "evaluate")
        snr = float(cfg["snr_db"])
        own = self.shared.evaluator(self.own_test, snr)
        glob = self.shared.evaluator(self.global_test, snr)
        return {"own_psnr": own["psnr"], "own_ssim": own["ssim"],
                "global_psnr": glob["psnr"], "global_ssim": glob["ssim"],
                "spent_compute_energy_j": self.state.spent_j()}

    def train(self, arrays: list[np.ndarray] | None, cfg: dict[str, Any]) -> Payload:
        """The local step of one round (module docstring, step 2)."""
        from psfl.federation.local import local_fit

        conf, fed, sem = self.config, self.config.federation, self.config.semantic
        rnd, snr = int(cfg["round"]), float(cfg["snr_db"])
        seed = conf.run.seed * 100_003 + self.mu * 1009 + rnd
        metrics: dict[str, Any] = {f"received_{k}": v for k, v in self.evaluate(arrays, cfg)
                                   .items() if k != "spent_compute_energy_j"}
        masks = None
        if cfg.get("pruned"):
            weights = self.student.get_weights()
            masks = [(w != 0).astype(np.float32) if f else np.ones_like(w, np.float32)
                     for w, f in zip(weights, prunable(weights), strict=True)]
        self._reseed(rnd, "train")
        mentor = self.mentor(rnd) if self.flags.pld else None
        name = self.mentor_choice["name"] if mentor is not None else ""
        objective = self.flags.objective
        flops = 0.0
        if mentor is not None:
            mentor_trainer = self.shared.trainer("mentor", mentor_name=name)
            mentor_trainer.reset_optimizer()
            m = local_fit(mentor_trainer, self.images, steps=fed.mentor_steps,
                          batch_size=sem.batch_size, snr_db=snr, seed=seed)
            flops += 3.0 * mentor.cost()["flops"] * m["images"]
            self._spend(flops)  # first: a saved mentor is work already spent
            self.state.save(mentor, "mentor", rnd)
            # A teacher helps only if it is better than the student it teaches: measured on the
            # MU's own test images at this round's SNR, against the student as received.
            teacher = self.shared.mentor_evaluator(name)(self.own_test, snr)
            metrics.update(mentor_psnr=teacher["psnr"],
                           mentor_gain_db=teacher["psnr"] - metrics["received_own_psnr"])
            if fed.distill == "round-gate":
                from psfl.federation.distill import teacher_is_better

                sample = self.images[np.linspace(0, len(self.images) - 1,
                                                 min(GATE_IMAGES, len(self.images))).astype(int)]
                m_psnr = self.shared.mentor_evaluator(name)(sample, snr)["psnr"]
                s_psnr = self.shared.evaluator(sample, snr)["psnr"]
                if not teacher_is_better(m_psnr, s_psnr):
                    objective = "mse"
            metrics.update(distilled=int(objective == "pld"))
            metrics.update(mentor=self.mentor_choice["name"],
                           mentor_fits=int(self.mentor_choice["fits"]),
                           mentor_loss_first=m["loss_first"], mentor_loss_last=m["loss_last"])
        student_trainer = self.shared.trainer("student", objective, name)
        student_trainer.reset_optimizer()
        s = local_fit(student_trainer, self.images, steps=fed.local_steps,
                      batch_size=sem.batch_size, snr_db=snr, seed=seed + 1, masks=masks)
        student_flops = 3.0 * self.student.cost()["flops"] * s["images"]
        if objective == "pld":
            student_flops += mentor.cost()["flops"] * s["images"]  # the teacher's forward pass
        spent = self._spend(student_flops)
        flops += student_flops
        cycles = flops / fed.flops_per_cycle
        personal = self.shared.evaluator(self.own_test, snr)
        metrics.update(loss_first=s["loss_first"], loss_last=s["loss_last"],
                       personal_psnr=personal["psnr"], personal_ssim=personal["ssim"],
                       train_flops=flops,
                       compute_energy_j=float(compute_energy_j(cycles, fed.cpu_hz, fed.kappa)),
                       spent_compute_energy_j=spent, num_samples=len(self.images), mu=self.mu)
        if not self.flags.aggregate:
            self.state.save(self.student, "student", rnd)
            return None, metrics
        return self.student.get_weights(), metrics


# ----------------------------------------------------------------------------------------- BS


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
        self._plan: dict[int, dict[str, Any]] = {}

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

    def plan_round(self, rnd: int) -> dict[int, Payload]:
        """Channels, AGP ratios and the payload for every MU of round ``rnd`` (1-based)."""
        fed = self.fed
        rng = np.random.default_rng([self.config.run.seed, rnd])
        channels = draw_round_channels(self.population, self.config.phy, fed.scenario,
                                       fed.bs_tx_power_dbm, rng)
        payloads: dict[int, Payload] = {}
        self._plan = {}
        self._round_started = time.perf_counter()
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
            self._plan[mu.mu] = {"channel": ch, "masks": masks, "ratio": ratio}
            payloads[mu.mu] = (arrays, {"round": rnd, "snr_db": ch.snr_db,
                                        "pruned": masks is not None, "prune_ratio": ratio})
        return payloads

    def finish_round(self, rnd: int, replies: dict[int, Payload | BaseException | str]) -> dict:
        """Screen, aggregate, account and checkpoint round ``rnd``; returns the round's row."""
        fed = self.fed
        accepted, sizes, masks_used, rows = [], [], [], []
        for mu in self.population:
            plan = self._plan[mu.mu]
            ch: RoundChannel = plan["channel"]
            reply = replies.get(mu.mu, "no reply before the round timeout")
            row: dict[str, Any] = {"round": rnd, "mu": mu.mu, "distance_m": mu.distance_m,
                                   "snr_db": ch.snr_db, "downlink_snr_db": ch.downlink_snr_db,
                                   "los": int(ch.los), "prune_ratio": plan["ratio"]}
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
                                                   plan["ratio"], fed.agp_weighting))
                        masks_used.append(plan["masks"])
            if status != "ok":
                self.log(f"round {rnd}: MU {mu.mu} {status}")
            row.update({k: v for k, v in metrics.items()
                        if k not in ("mu", "spent_compute_energy_j")})
            row["status"] = status
            row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, metrics, f"round {rnd}")
            row.update(self._account(plan, ch, received=status == "ok" or
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
        summary["round_s"] = time.perf_counter() - self._round_started
        self.mu_rows.extend(rows)
        self.round_rows.append(summary)
        self.completed = rnd
        self.final_rows = []
        self.save()
        return summary

    def _account(self, plan: dict[str, Any], ch: RoundChannel, received: bool) -> dict[str, float]:
        fed, bw = self.fed, self.config.phy.noise_bandwidth_hz
        if not self.flags.aggregate:
            return {"bits_down": 0.0, "bits_up": 0.0, "airtime_down_s": 0.0, "airtime_up_s": 0.0,
                    "energy_down_j": 0.0, "energy_up_j": 0.0}
        masks = plan["masks"]
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
                "wasted_compute_energy_j": total("wasted_compute_energy_j")}

    def final_payloads(self) -> dict[int, Payload]:
        """Payloads for the closing evaluation of the final global model at each MU."""
        rng = np.random.default_rng([self.config.run.seed, self.fed.rounds + 1])
        channels = draw_round_channels(self.population, self.config.phy, self.fed.scenario,
                                       self.fed.bs_tx_power_dbm, rng)
        arrays = list(self.dense) if self.flags.aggregate else None
        self._final_snr = {mu.mu: ch.snr_db for mu, ch in zip(self.population, channels,
                                                              strict=True)}
        return {mu.mu: (arrays, {"round": self.fed.rounds + 1, "snr_db": ch.snr_db})
                for mu, ch in zip(self.population, channels, strict=True)}

    def finish_final(self, replies: dict[int, dict[str, float] | BaseException | str]) -> None:
        """Record the closing evaluation (one row per MU) and save it."""
        self.final_rows = []
        for mu in self.population:
            reply = replies.get(mu.mu, "no reply")
            row: dict[str, Any] = {"mu": mu.mu, "snr_db": self._final_snr[mu.mu]}
            if isinstance(reply, dict):
                row.update({k: v for k, v in reply.items() if k != "spent_compute_energy_j"})
                row["wasted_compute_energy_j"] = self._wasted_j(mu.mu, reply, "final evaluation")
            else:
                row["status"] = f"failed: {reply}"
                self.log(f"final evaluation: MU {mu.mu} failed: {reply}")
            self.final_rows.append(row)
        self.save()


def run_loop(config: Config, out_dir: str | Path, state_dir: str | Path | None = None,
             log: Callable[[str], None] = print, progress: Any = None) -> BaseStation:
    """Run the federation as a bare loop over the same MU and BS code (no Flower).

    Resumes from the run's checkpoint (:class:`~psfl.federation.checkpoint.RunLayout`) when
    it holds finished rounds. ``progress`` (optional)
    is called with the round's summary after each round.
    """
    state_dir = Path(state_dir or RunLayout(out_dir).mu_state)
    bs = BaseStation(config, out_dir, log)
    done = bs.restore()
    clients = {mu: MobileUserClient(config, mu, state_dir) for mu in range(config.data.num_mus)}
    if not done:
        bs.register([c.register() for c in clients.values()])
    for rnd in range(done + 1, config.federation.rounds + 1):
        replies: dict[int, Any] = {}
        for mu, (arrays, cfg) in bs.plan_round(rnd).items():
            try:
                replies[mu] = clients[mu].train(arrays, cfg)
            except Exception as exc:  # noqa: BLE001 - one MU's failure must not stop the round
                replies[mu] = f"{type(exc).__name__}: {exc}"
        summary = bs.finish_round(rnd, replies)
        if progress is not None:
            progress(summary)
    if not bs.final_rows:
        finals: dict[int, Any] = {}
        for mu, (arrays, cfg) in bs.final_payloads().items():
            try:
                finals[mu] = clients[mu].evaluate(arrays, cfg)
            except Exception as exc:  # noqa: BLE001
                finals[mu] = f"{type(exc).__name__}: {exc}"
        bs.finish_final(finals)
    return bs
