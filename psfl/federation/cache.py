"""What one process keeps between the messages it serves: built models, links, compiled steps
(:class:`SharedModels`), the run's images and their split among the MUs (:class:`SharedData`),
and the MUs themselves (:func:`mobile_user`).

Tracing a codec with the Sionna link costs 10–20 s on a small CPU and loading the embedded
images about a second, while one training step costs tens of milliseconds. Flower's simulation
hands every message to a Ray actor together with a fresh copy of the ClientApp, so anything the
app itself held would be rebuilt per message; what is kept here is keyed by the configuration
and lives as long as the process.

Memory does not grow with the number of MUs (ours): the models and the images are held once per
process, an MU object keeps only the indices of its images, and what an MU keeps across rounds
(its mentor, a local-only student, the energy it spent) is on disk
(:class:`~psfl.federation.checkpoint.MuState`), loaded into the shared models when its turn
comes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from psfl.config import Config
from psfl.federation.models import build_student, initial_weights
from psfl.federation.population import MobileUser, make_population

__all__ = ["MIN_MU_IMAGES", "SharedData", "SharedModels", "check_shares", "mobile_user"]

#: Fewest training images an MU may hold (:func:`psfl.data.partition`'s ``min_size``).
MIN_MU_IMAGES = 2

MU = TypeVar("MU")
_MUS: dict[tuple[type, int, str, str], Any] = {}


def mobile_user(cls: type[MU], config: Config, mu: int, state_dir: str | Path) -> MU:
    """MU ``mu`` of ``config``, a ``cls`` (:class:`~psfl.federation.roles.MobileUserClient` or
    a subclass) built once in this process; its state on disk is read anew at every step, so a
    kept object is never stale."""
    key = (cls, mu, config.to_toml(), str(state_dir))
    if key not in _MUS:
        _MUS[key] = cls(config, mu, state_dir)
    return _MUS[key]


class SharedData:
    """The run's images as one process holds them: the train and test sets (``[data]``, loaded
    once), every MU's share of the training set as indices (``data.partition``), the global
    test images every MU evaluates on, and the MU population drawn over the shares.

    Only the most recent configuration's data is kept: a process that runs one configuration
    after another (``psfl study``) holds one data set, not one per run.

    Raises :class:`~psfl.errors.DataError` (one line naming the fix) when the data cannot give
    every MU :data:`MIN_MU_IMAGES` images.
    """

    _last: tuple[tuple[str, int], SharedData] | None = None

    def __init__(self, config: Config):
        from psfl.data import load_images, partition

        data, seed = config.data, config.run.seed
        self.train, self.test = load_images(data, seed=seed)
        #: Indices of each MU's training images (sorted, disjoint, covering the training set).
        self.parts: list[np.ndarray] = partition(self.train.labels, data.num_mus,
                                                 data.partition, data.alpha, seed=seed,
                                                 min_size=MIN_MU_IMAGES)
        self._global: dict[tuple[int, int], np.ndarray] = {}
        self._population: dict[tuple[Any, ...], list[MobileUser]] = {}

    @staticmethod
    def _key(config: Config) -> tuple[str, int]:
        return str(config.data), config.run.seed

    @classmethod
    def get(cls, config: Config) -> SharedData:
        """The data of ``config``, loaded at the first call for it."""
        key = cls._key(config)
        if cls._last is None or cls._last[0] != key:
            cls._last = None  # the previous configuration's images go before the new ones load
            cls._last = (key, cls(config))
        return cls._last[1]

    def population(self, config: Config) -> list[MobileUser]:
        """Every MU's resources and position (:func:`~psfl.federation.population.make_population`
        over the shares' sizes), drawn once for all the MUs of the process."""
        fed = config.federation
        key = (fed.min_distance_m, fed.max_distance_m, fed.memory_mb, fed.compute_gflop_per_round,
               config.run.seed)
        if key not in self._population:
            self._population[key] = make_population(
                [len(p) for p in self.parts], min_distance_m=fed.min_distance_m,
                max_distance_m=fed.max_distance_m, memory_mb=fed.memory_mb,
                compute_gflop=fed.compute_gflop_per_round, seed=config.run.seed)
        return self._population[key]

    def global_test(self, n: int, seed: int) -> np.ndarray:
        """``n`` test images drawn with ``seed`` (0: all), the same array for every MU."""
        if (n, seed) not in self._global:
            self._global[(n, seed)] = self.test.cap(n, seed).images
        return self._global[(n, seed)]


def check_shares(config: Config) -> None:
    """Refuse, before anything trains, data that cannot give each of ``data.num_mus`` MUs
    :data:`MIN_MU_IMAGES` images: a :class:`~psfl.errors.DataError` in one line naming the fix.
    The bare loop keeps what it loaded (:meth:`SharedData.get`); for Flower's workers, which
    load their own copy, it is dropped."""
    if config.federation.backend == "loop":
        SharedData.get(config)
    else:
        SharedData(config)


class SharedModels:
    """Models, link and compiled functions shared by every MU simulated in one process.

    An MU's state is only its weights (the student's come from the BS each round,
    the mentor's and a local-only student's from the MU's state directory), so MUs in one process
    can share one student, one mentor per preset and their compiled functions, loading their own
    weights before use. Adam's moments are reset every round for the same reason.
    """

    _instances: dict[str, SharedModels] = {}

    def __init__(self, config: Config):
        from psfl.federation.local import Evaluator
        from psfl.phy import UplinkLink

        self.config = config
        self.link = UplinkLink(dataclasses.replace(config.phy,
                                                   channel=config.federation.small_scale))
        self.student = build_student(config)
        self.initial_student = initial_weights(config)
        self.evaluator = Evaluator(self.student, self.link)
        self._mentors: dict[str, Any] = {}
        self._initial: dict[str, list[np.ndarray]] = {}
        self._trainers: dict[tuple[str, str, str], Any] = {}
        self._costs: list[dict[str, Any]] | None = None

    def mentor_costs(self) -> list[dict[str, Any]]:
        """Cost-table rows of the GSC presets (computed once: it builds every model)."""
        if self._costs is None:
            from psfl.semantic import cost_table

            self._costs = [r for r in cost_table(self.config.data.patch_size, k=self.student.k)
                           if r["family"] == "gsc"]
        return self._costs

    @staticmethod
    def _key(config: Config) -> str:
        """What the models, the link and the compiled steps depend on (not the strategy, the
        schedule or AGP, so runs that differ only there share one trace)."""
        fed = config.federation
        return "\n".join([
            str(config.phy), str(config.semantic), str(config.data.patch_size),
            fed.small_scale, str(fed.distill_lambda), str(fed.proximal_mu), fed.distill,
            str(fed.distill_feature_weight),
            str(fed.learning_rate), fed.init])

    @classmethod
    def get(cls, config: Config) -> SharedModels:
        key = cls._key(config)
        if key not in cls._instances:
            cls._instances[key] = cls(config)
        return cls._instances[key]

    def mentor(self, name: str):
        if name not in self._mentors:
            from psfl.semantic import build_codec

            self._mentors[name] = build_codec(name, self.config.data.patch_size,
                                              k=self.student.k)
            self._initial[name] = initial_weights(self.config, name)
        return self._mentors[name]

    def initial_mentor_weights(self, name: str) -> list[np.ndarray]:
        """The preset's starting weights (every MU's mentor starts from them)."""
        self.mentor(name)
        return self._initial[name]

    def mentor_evaluator(self, name: str):
        """The compiled evaluation of the mentor preset ``name`` (one per preset)."""
        key = ("mentor-eval", name, "")
        if key not in self._trainers:
            from psfl.federation.local import Evaluator

            self._trainers[key] = Evaluator(self.mentor(name), self.link)
        return self._trainers[key]

    def trainer(self, which: str, objective: str = "mse", mentor_name: str = ""):
        """The compiled trainer of the mentor (``which="mentor"``) or of the student with the
        given objective (``"mse"``, ``"prox"``, or ``"pld"`` with ``mentor_name``)."""
        key = (which, objective, mentor_name)
        if key not in self._trainers:
            from psfl.federation.local import local_trainer

            fed = self.config.federation
            lr = fed.learning_rate
            if which == "mentor":
                t = local_trainer(self.mentor(mentor_name), self.link, learning_rate=lr)
            else:
                t = local_trainer(self.student, self.link, learning_rate=lr, objective=objective,
                                  mentor=self.mentor(mentor_name) if objective == "pld" else None,
                                  distill_lambda=fed.distill_lambda, proximal_mu=fed.proximal_mu,
                                  distill=fed.distill,
                                  feature_weight=fed.distill_feature_weight)
            self._trainers[key] = t
        return self._trainers[key]
