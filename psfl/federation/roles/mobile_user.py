"""An MU's side of a round (step 2 of :mod:`psfl.federation.roles`): evaluate the received global
student on its own and on the global test split; train the student with the objective the BS's
strategy sent (``objective``: ``pld`` trains the MU's persistent mentor, the largest GSC its
resources allow, and distils it into the student; ``mse``; ``prox``, FedProx); evaluate the
personalized student.

The MU needs no strategy of its own: it follows its instructions. A round without a model from
the BS (local-only training) trains the student this MU kept from its previous round and keeps
it again; nothing goes back.

What an MU holds: the indices of its training images and of its own test images into the
process's one copy of the data (:class:`~psfl.federation.cache.SharedData`, gathered when a step
needs them), its place in the population, and on disk what it keeps across rounds
(:class:`~psfl.federation.checkpoint.MuState`); its models are the process's shared ones
(:class:`~psfl.federation.cache.SharedModels`) holding its weights only during its step. So a
run of 500 MUs holds no more images or models in memory than a run of 5.

Wasted work (ours): every MU keeps a running total of the computation energy it has spent
(:class:`~psfl.federation.checkpoint.MuState`) and reports it with each reply, so that the BS can
count work it never received (:mod:`.base_station`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.federation.agp import prunable
from psfl.federation.cache import SharedData, SharedModels
from psfl.federation.checkpoint import MuState
from psfl.federation.mentor import select_mentor
from psfl.federation.population import MobileUser
from psfl.phy.energy import compute_energy_j

__all__ = ["GATE_IMAGES", "MobileUserClient", "Payload"]

#: What travels between the roles: a list of NumPy arrays (or ``None``) and a flat dict of
#: scalars, one-to-one with Flower's ``ArrayRecord`` and ``ConfigRecord``/``MetricRecord``.
Payload = tuple[list[np.ndarray] | None, dict[str, Any]]
#: Training images of an MU on which the round-gate compares mentor and student.
GATE_IMAGES = 64


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
        self.config, self.mu = config, mu
        fed, data = config.federation, config.data
        if not 0 <= mu < data.num_mus:
            raise ValueError(f"MU index {mu} outside 0…{data.num_mus - 1} (data.num_mus)")
        self.state = MuState(Path(state_dir) / f"mu{mu}")
        seed = config.run.seed
        shares = SharedData.get(config)
        #: Indices of this MU's training images in the process's training set.
        self.share: np.ndarray = shares.parts[mu]
        #: Indices of its own test images (its label mix) in the process's test set.
        self.own_test_index = self._own_test(shares.train.labels[self.share], shares.test,
                                             fed.eval_images, seed + mu)
        self.user: MobileUser = shares.population(config)[mu]
        self.shared = SharedModels.get(config)
        self.student = self.shared.student
        self.mentor_choice: dict[str, Any] | None = None

    @staticmethod
    def _own_test(train_labels: np.ndarray, test, n: int, seed: int) -> np.ndarray:
        """Indices of test images drawn with the MU's own label mix (its 'own test split')."""
        hist = np.bincount(train_labels, minlength=len(test.label_names)).astype(float)
        p = hist[test.labels]
        p = p / p.sum() if p.sum() > 0 else None
        size = min(n or len(test), len(test) if p is None else int(np.count_nonzero(p)))
        idx = np.random.default_rng(seed).choice(len(test), size=size, replace=False, p=p)
        return np.sort(idx)

    # -- its data, gathered from the process's copy when a step needs it ---------------------
    @property
    def images(self) -> np.ndarray:
        """Its training images, float32 [n, H, W, 3]."""
        return SharedData.get(self.config).train.images[self.share]

    @property
    def own_test(self) -> np.ndarray:
        """Its own test images (its label mix), float32 [m, H, W, 3]."""
        return SharedData.get(self.config).test.images[self.own_test_index]

    @property
    def global_test(self) -> np.ndarray:
        """The global test images (the same for every MU), float32 [g, H, W, 3]."""
        return SharedData.get(self.config).global_test(self.config.federation.eval_images,
                                                       self.config.run.seed + 2)

    @property
    def num_samples(self) -> int:
        """How many training images it holds (its FedAvg weight)."""
        return len(self.share)

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
                "num_samples": self.num_samples}

    def _load_global(self, arrays: list[np.ndarray] | None, rnd: int) -> None:
        """The model the BS sent, or without one the student this MU kept before round ``rnd``
        (its initial weights before its first round)."""
        if arrays is not None:
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
        from psfl.federation.local import OBJECTIVES, local_fit

        started = time.perf_counter()
        conf, fed, sem = self.config, self.config.federation, self.config.semantic
        rnd, snr = int(cfg["round"]), float(cfg["snr_db"])
        objective = str(cfg.get("objective", ""))
        if objective not in OBJECTIVES:
            raise ValueError(f"the BS asked for the local objective {objective!r}; this MU "
                             f"knows {', '.join(OBJECTIVES)} (psfl versions differ?)")
        seed = conf.run.seed * 100_003 + self.mu * 1009 + rnd
        images, own_test = self.images, self.own_test  # gathered once for the whole step
        metrics: dict[str, Any] = {f"received_{k}": v for k, v in self.evaluate(arrays, cfg)
                                   .items() if k != "spent_compute_energy_j"}
        masks = None
        if cfg.get("pruned"):
            weights = self.student.get_weights()
            masks = [(w != 0).astype(np.float32) if f else np.ones_like(w, np.float32)
                     for w, f in zip(weights, prunable(weights), strict=True)]
        self._reseed(rnd, "train")
        mentor, name, flops = None, "", 0.0
        if objective == "pld":
            mentor, flops, distil = self._train_mentor(rnd, snr, seed, images, own_test, metrics)
            name = self.mentor_choice["name"]
            objective = "pld" if distil else "mse"
        student_trainer = self.shared.trainer("student", objective, name)
        student_trainer.reset_optimizer()
        s = local_fit(student_trainer, images, steps=fed.local_steps,
                      batch_size=sem.batch_size, snr_db=snr, seed=seed + 1, masks=masks)
        student_flops = 3.0 * self.student.cost()["flops"] * s["images"]
        if objective == "pld":
            student_flops += mentor.cost()["flops"] * s["images"]  # the teacher's forward pass
        spent = self._spend(student_flops)
        flops += student_flops
        cycles = flops / fed.flops_per_cycle
        personal = self.shared.evaluator(own_test, snr)
        metrics.update(loss_first=s["loss_first"], loss_last=s["loss_last"],
                       personal_psnr=personal["psnr"], personal_ssim=personal["ssim"],
                       train_flops=flops,
                       compute_energy_j=float(compute_energy_j(cycles, fed.cpu_hz, fed.kappa)),
                       spent_compute_energy_j=spent, num_samples=len(images), mu=self.mu,
                       train_s=time.perf_counter() - started)
        if arrays is None:  # no model from the BS: the student stays with this MU
            self.state.save(self.student, "student", rnd)
            return None, metrics
        return self.student.get_weights(), metrics

    def _train_mentor(self, rnd: int, snr: float, seed: int, images: np.ndarray,
                      own_test: np.ndarray, metrics: dict[str, Any]) -> tuple[Any, float, bool]:
        """PLD's first half: train this MU's mentor on ``images`` and save it, then record in
        ``metrics`` how it compares with the received student. Returns the mentor, the FLOPs
        spent on it, and whether to distil it into the student (``federation.distill =
        "round-gate"``: only when it beats the student on a sample of ``images``)."""
        from psfl.federation.local import local_fit

        fed = self.config.federation
        mentor = self.mentor(rnd)
        name = self.mentor_choice["name"]
        mentor_trainer = self.shared.trainer("mentor", mentor_name=name)
        mentor_trainer.reset_optimizer()
        m = local_fit(mentor_trainer, images, steps=fed.mentor_steps,
                      batch_size=self.config.semantic.batch_size, snr_db=snr, seed=seed)
        flops = 3.0 * mentor.cost()["flops"] * m["images"]
        self._spend(flops)  # first: a saved mentor is work already spent
        self.state.save(mentor, "mentor", rnd)
        # A teacher helps only if it is better than the student it teaches: measured on the
        # MU's own test images at this round's SNR, against the student as received.
        teacher = self.shared.mentor_evaluator(name)(own_test, snr)
        metrics.update(mentor_psnr=teacher["psnr"],
                       mentor_gain_db=teacher["psnr"] - metrics["received_own_psnr"])
        distil = True
        if fed.distill == "round-gate":
            from psfl.federation.distill import teacher_is_better

            sample = images[np.linspace(0, len(images) - 1,
                                        min(GATE_IMAGES, len(images))).astype(int)]
            m_psnr = self.shared.mentor_evaluator(name)(sample, snr)["psnr"]
            s_psnr = self.shared.evaluator(sample, snr)["psnr"]
            distil = teacher_is_better(m_psnr, s_psnr)
        metrics.update(distilled=int(distil), mentor=name,
                       mentor_fits=int(self.mentor_choice["fits"]),
                       mentor_loss_first=m["loss_first"], mentor_loss_last=m["loss_last"])
        return mentor, flops, distil
