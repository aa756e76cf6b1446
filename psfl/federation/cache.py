"""What one process keeps between the messages it serves: built models, links, compiled steps
(:class:`SharedModels`) and the MUs themselves (:func:`mobile_user`).

Tracing a codec with the Sionna link costs 10–20 s on a small CPU and building an MU (its share
of the data, its test splits, its place in the population) about a second, while one training
step costs tens of milliseconds. Flower's simulation hands every message to a Ray actor together
with a fresh copy of the ClientApp, so anything the app itself held would be rebuilt per message;
what is kept here is keyed by the configuration and lives as long as the process.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from psfl.config import Config
from psfl.federation.models import build_student, initial_weights

__all__ = ["SharedModels", "mobile_user"]

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
