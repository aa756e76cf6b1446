"""Models of a federated run: the shared student, where every model starts, and the per-process
cache of models, links and compiled steps that the MUs simulated in one process share."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from psfl.config import Config

__all__ = ["SharedModels", "build_student", "initial_weights"]


def build_student(config: Config):
    """The shared CSC student of this configuration (image size and k from [data]/[semantic])."""
    from psfl.semantic import build_codec

    sem = config.semantic
    return build_codec("csc", config.data.patch_size, k=sem.k or None, k_over_n=sem.k_over_n)


def initial_weights(config: Config, preset: str = "csc") -> list[np.ndarray]:
    """Starting weights of ``preset`` under ``federation.init``: the shipped zoo file for the
    federation's small-scale channel (``pretrained:<preset>``), or a fresh initialization."""
    from psfl.semantic import build_codec

    sem = config.semantic
    if config.federation.init == "scratch":
        import keras

        from psfl.seeding import derive_seed

        # Keras draws initializers from a per-thread generator seeded from Python's `random`,
        # whose state depends on what ran before in the process (Ray draws from it); the BS
        # may build this in Flower's ServerApp thread. A seed of its own makes the start a
        # function of run.seed alone, on every backend.
        keras.utils.set_random_seed(derive_seed(config.run.seed, f"initial-{preset}") % 2**32)
        return build_codec(preset, config.data.patch_size, k=sem.k or None,
                           k_over_n=sem.k_over_n).get_weights()
    from psfl.semantic.power import k_from_ratio
    from psfl.semantic.zoo import PREFIX, load_pretrained

    k = sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)
    try:
        codec = load_pretrained(PREFIX + preset, config.federation.small_scale,
                                image_size=config.data.patch_size, k=k)
    except ValueError as exc:
        raise ValueError(f"{exc}; or set federation.init=scratch") from None
    return codec.get_weights()


class SharedModels:
    """Models, link and compiled functions shared by every MU simulated in one process.

    Tracing a codec with the Sionna link costs 10–20 s on a small CPU; a step costs tens of
    milliseconds. An MU's state is only its weights (the student's come from the BS each round,
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
                                  distill=fed.distill)
            self._trainers[key] = t
        return self._trainers[key]
