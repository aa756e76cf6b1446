"""The federation as a bare loop over the roles (no Flower): the reference that Flower's
simulation is compared with (same MU and BS code, same results, see ``bench_federation``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from psfl.config import Config
from psfl.federation.checkpoint import RunLayout
from psfl.federation.roles import BaseStation, MobileUserClient

__all__ = ["run_loop"]


def run_loop(config: Config, out_dir: str | Path, state_dir: str | Path | None = None,
             log: Callable[[str], None] = print,
             progress: Callable[[dict[str, Any]], None] | None = None,
             client_cls: type[MobileUserClient] | None = None) -> BaseStation:
    """Run the federation in this process, one MU after the other.

    Resumes from the run's checkpoint (:class:`~psfl.federation.checkpoint.RunLayout`) when it
    holds finished rounds. ``progress`` (optional) is called with the round's summary after
    each round. One MU's failure is recorded for that MU and the round goes on. ``client_cls``
    is the MU implementation (``None``: :class:`MobileUserClient`), as for
    :func:`~psfl.federation.apps.run_flower_simulation`.

    Every MU object is built up front, and is small: the indices of its images into the one
    copy of the data, its place in the population (:mod:`psfl.federation.cache`); what it
    keeps across rounds is on disk under ``state_dir``.
    """
    state_dir = Path(state_dir or RunLayout(out_dir).mu_state)
    bs = BaseStation(config, out_dir, log)
    done = bs.restore()
    cls = client_cls or MobileUserClient
    clients = {mu: cls(config, mu, state_dir) for mu in range(config.data.num_mus)}
    if not done:
        bs.register([c.register() for c in clients.values()])

    def ask(plan, step: Callable[[MobileUserClient], Callable[..., Any]]) -> dict[int, Any]:
        replies: dict[int, Any] = {}
        for mu, (arrays, cfg) in plan.payloads.items():
            try:
                replies[mu] = step(clients[mu])(arrays, cfg)
            except Exception as exc:  # noqa: BLE001 - one MU's failure must not stop the round
                replies[mu] = f"{type(exc).__name__}: {exc}"
        return replies

    for rnd in range(done + 1, config.federation.rounds + 1):
        plan = bs.plan_round(rnd)
        summary = bs.finish_round(plan, ask(plan, lambda c: c.train))
        if progress is not None:
            progress(summary)
    if not bs.final_rows:
        plan = bs.final_plan()
        bs.finish_final(plan, ask(plan, lambda c: c.evaluate))
    return bs
