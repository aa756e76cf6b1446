r"""Client selection per round: which MUs train in round :math:`r`
(``federation.clients_per_round`` :math:`K`, ``federation.selection``), and the bias it brings.

Rules, one function each in :data:`RULES`:

* ``all`` — every MU (:math:`K = 0`; the federation as it always ran).
* ``random`` — :math:`K` MUs drawn uniformly without replacement, as FedAvg samples its clients
  (McMahan et al., 2017), from a generator seeded by ``(run.seed, r, 1)``: the same seed selects
  the same MUs in a new process, and the draw is independent of the channel draws, which use
  ``(run.seed, r)`` (ours).
* ``best`` — the :math:`K` MUs with the highest uplink SNR :math:`\gamma_u` of the round's
  channel draw (:class:`~psfl.federation.channels.RoundChannel` ``snr_db``: full power over the
  whole carrier, so an order of the large-scale gains alone, path loss, LoS and shadowing, not of
  any power control); ties go to the lower MU index (ours).

**Bias** (ours, reported per round): the mean SNR [dB] and mean distance [m] of the selected
MUs against all MUs of the round,

.. math::
    \Delta_\gamma = \frac1K\sum_{u\in S}\gamma_u - \frac1N\sum_{u=1}^N\gamma_u,\qquad
    \Delta_d = \frac1K\sum_{u\in S} d_u - \frac1N\sum_{u=1}^N d_u,

zero for ``all``, about zero on average for ``random``, and positive :math:`\Delta_\gamma`
(negative :math:`\Delta_d`) for ``best``: the model learns from the MUs near the BS.
Pure NumPy: no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from psfl.config import ConfigError

__all__ = ["RULES", "SELECTIONS", "check_selection", "select_mus", "selection_bias"]


def _all(k: int, snr_db: Mapping[int, float], rng: np.random.Generator) -> list[int]:
    return sorted(snr_db)


def _random(k: int, snr_db: Mapping[int, float], rng: np.random.Generator) -> list[int]:
    mus = np.array(sorted(snr_db))
    return sorted(int(m) for m in rng.choice(mus, size=k, replace=False))


def _best(k: int, snr_db: Mapping[int, float], rng: np.random.Generator) -> list[int]:
    order = sorted(snr_db, key=lambda mu: (-snr_db[mu], mu))
    return sorted(order[:k])


#: Selection rule name → ``f(K, {mu: snr_db}, rng) -> sorted MU indices`` (module docstring).
RULES: dict[str, Callable[[int, Mapping[int, float], np.random.Generator], list[int]]] = {
    "all": _all, "random": _random, "best": _best}
#: ``federation.selection``'s choices.
SELECTIONS: tuple[str, ...] = tuple(RULES)


def check_selection(clients_per_round: int, num_mus: int) -> None:
    """Refuses (:class:`~psfl.config.ConfigError`, one line naming the fix) more MUs per round
    than the federation has."""
    if clients_per_round > num_mus:
        raise ConfigError(f"federation.clients_per_round: {clients_per_round} MUs per round but "
                          f"data.num_mus = {num_mus}; set federation.clients_per_round to at "
                          f"most {num_mus} (0: all) or raise data.num_mus")


def select_mus(rule: str, k: int, snr_db: Mapping[int, float], *, seed: int,
               rnd: int) -> list[int]:
    """The MUs that train in round ``rnd`` (module docstring).

    Input
    -----
    rule : "all" | "random" | "best"
    k : int
        MUs to select (ignored by ``all``); ``1 <= k <= len(snr_db)`` otherwise.
    snr_db : {mu: float}
        Every MU's uplink SNR of the round's draw [dB].
    seed, rnd : int
        Run seed and round (``random``).

    Output
    ------
    mus : list of int, sorted
    """
    if rule not in RULES:
        raise ConfigError(f"federation.selection: unknown rule {rule!r}; choose one of "
                          f"{', '.join(SELECTIONS)}")
    if rule != "all" and not 1 <= k <= len(snr_db):
        check_selection(k, len(snr_db))
        raise ConfigError(f"federation.clients_per_round: {rule!r} needs 1 or more MUs per "
                          f"round, got {k}; set federation.clients_per_round")
    return RULES[rule](k, snr_db, np.random.default_rng([seed, rnd, 1]))


def selection_bias(selected: list[int], snr_db: Mapping[int, float],
                   distance_m: Mapping[int, float]) -> dict[str, float]:
    r""":math:`\Delta_\gamma`, :math:`\Delta_d` (module docstring) and the means behind them.

    Output
    ------
    dict with ``selected``, ``selected_snr_db``, ``all_snr_db``, ``selection_snr_bias_db``,
    ``selected_distance_m``, ``all_distance_m``, ``selection_distance_bias_m``.
    """
    mus = sorted(snr_db)
    sel_snr = float(np.mean([snr_db[m] for m in selected]))
    all_snr = float(np.mean([snr_db[m] for m in mus]))
    sel_d = float(np.mean([distance_m[m] for m in selected]))
    all_d = float(np.mean([distance_m[m] for m in mus]))
    return {"selected": len(selected), "selected_snr_db": sel_snr, "all_snr_db": all_snr,
            "selection_snr_bias_db": sel_snr - all_snr, "selected_distance_m": sel_d,
            "all_distance_m": all_d, "selection_distance_bias_m": sel_d - all_d}
