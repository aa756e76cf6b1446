"""The paper's three findings as a study over strategies and seeds: statistics, pure functions.

Confidence intervals (ours: the paper reports single runs)
    For ``n`` values ``v_i`` (one per seed): mean ``m``, sample standard deviation ``s`` (ddof 1)
    and the two-sided 95 % Student-t interval ``m ± t_{0.975, n−1}·s/√n``. Comparisons between
    two strategies are *paired by seed* (same data split, MU positions and channel draws): the
    interval is that of the per-seed differences.

Findings and the rules that decide them (ours)
    1. *Personalized models enhance quality* (PLD): the MUs' personalized PSNR after the last
       round, ``psfl`` minus ``psfl-no-pld``; confirmed when the difference's interval lies
       above 0.
    2. *PSFL improves communication efficiency*: the cumulative communication energy (and bits)
       needed to reach a common quality — the lower of the two strategies' final global PSNR —
       ``psfl`` minus ``fedavg-csc`` (and minus ``fedprox-csc``, and minus any other strategy of
       the study that federates without PLD or AGP, such as ``fedadam-csc``: the registry's
       capabilities say which); a run that never reaches it counts its total. Confirmed when the
       interval lies below 0. And the quality at equal energy: each run's global PSNR at the
       lower of the two runs' total communication energies ``E*``, read off its curve of
       quality after each round against cumulative energy by linear interpolation
       (:func:`quality_at_energy`), ``psfl`` minus the peer; confirmed when above 0.
    3. *Pruning cuts communication energy* (AGP): total communication energy, ``psfl`` minus
       ``psfl-no-agp``; confirmed when the interval lies below 0 (its PSNR cost is reported).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["FINDINGS", "energy_to_reach", "finding", "mean_ci", "paired_ci", "quality_at_energy"]

FINDINGS: dict[str, str] = {
    "personalization": "Personalized models (PLD) enhance semantic transmission quality",
    "efficiency": "PSFL improves communication efficiency over FedAvg/FedProx",
    "pruning": "Adaptive global pruning (AGP) cuts communication energy",
}


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Mean and Student-t confidence half-width of ``values`` (module docstring).

    Output
    ------
    dict: ``mean``, ``half`` (half-width; NaN for fewer than 2 values), ``lo``, ``hi``, ``n``.
    """
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], float)
    n = len(v)
    if n == 0:
        return {"mean": float("nan"), "half": float("nan"), "lo": float("nan"),
                "hi": float("nan"), "n": 0}
    m = float(v.mean())
    half = (float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
            if n > 1 else float("nan"))
    return {"mean": m, "half": half, "lo": m - half, "hi": m + half, "n": n}


def paired_ci(a: dict[int, float], b: dict[int, float], level: float = 0.95) -> dict[str, float]:
    """Interval of ``a[seed] − b[seed]`` over the seeds both have."""
    seeds = sorted(set(a) & set(b))
    return mean_ci([a[s] - b[s] for s in seeds], level)


def energy_to_reach(psnr: Sequence[float], cum_energy: Sequence[float], target: float) -> float:
    """Cumulative energy at the first round whose PSNR reaches ``target`` (the total if none)."""
    for q, e in zip(psnr, cum_energy, strict=True):
        if q >= target:
            return float(e)
    return float(cum_energy[-1])


def quality_at_energy(psnr: Sequence[float], cum_energy: Sequence[float], energy: float) -> float:
    """Quality at cumulative energy ``energy`` on the piecewise-linear curve through
    ``(cum_energy[r], psnr[r])`` (held at its ends outside them)."""
    return float(np.interp(energy, np.asarray(cum_energy, float), np.asarray(psnr, float)))


def finding(ci: dict[str, float], sign: int) -> str:
    """``"confirmed"`` when the interval lies strictly on the side ``sign`` (+1 above 0, −1 below),
    ``"contradicted"`` when it lies strictly on the other, else ``"not confirmed"``."""
    if not math.isfinite(ci.get("half", float("nan"))):
        return "not confirmed (one seed: no interval)"
    if sign * ci["lo"] > 0 and sign * ci["hi"] > 0:
        return "confirmed"
    if sign * ci["lo"] < 0 and sign * ci["hi"] < 0:
        return "contradicted"
    return "not confirmed"


def summarize_runs(runs: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows (one per strategy): mean ± CI of each metric over the seeds."""
    keys = ("final_global_psnr", "final_global_ssim", "personal_psnr", "personal_ssim",
            "comm_energy_j", "compute_energy_j", "bits")
    rows = []
    for strategy in dict.fromkeys(s for s, _ in runs):
        per = [r for (s, _), r in runs.items() if s == strategy]
        row: dict[str, Any] = {"strategy": strategy, "seeds": len(per)}
        for key in keys:
            ci = mean_ci([r.get(key) for r in per])
            row[key] = ci["mean"]
            row[f"{key}_ci95"] = ci["half"]
        rows.append(row)
    return rows


def per_seed(runs: dict, strategy: str, seeds: list[int], key: str) -> dict[int, float]:
    """``strategy``'s ``key`` by seed, over the seeds that ran."""
    return {s: runs[(strategy, s)][key] for s in seeds if (strategy, s) in runs}


def findings(runs: dict, strategies: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    """The three findings from the study's runs (``runs[(strategy, seed)]``): PLD's gain of
    personalized PSNR (psfl against psfl-no-pld, paired by seed), psfl's communication energy and
    bits to reach a common quality against each plain federated strategy asked for, and
    AGP's communication energy with its cost in global PSNR (psfl against psfl-no-agp); each
    with its 95 % CI and verdict (rows of findings.csv)."""
    out = []

    def add(name: str, measure: str, unit: str, ci: dict[str, float], sign: int) -> None:
        out.append({"finding": FINDINGS[name], "measure": measure, "unit": unit,
                    "mean": ci["mean"], "ci95": ci["half"], "n": ci["n"],
                    "verdict": finding(ci, sign)})

    have = set(strategies)
    if {"psfl", "psfl-no-pld"} <= have:
        add("personalization", "personalized PSNR, psfl - psfl-no-pld", "dB",
            paired_ci(per_seed(runs, "psfl", seeds, "personal_psnr"),
                            per_seed(runs, "psfl-no-pld", seeds, "personal_psnr")), +1)
    for peer in plain_federated(strategies) if "psfl" in have else []:
        pairs = [(runs[("psfl", s)], runs[(peer, s)]) for s in seeds
                 if ("psfl", s) in runs and (peer, s) in runs]
        for what, key, unit in (("energy", "cum_energy", "J"), ("bits", "cum_bits", "bit")):
            diff = []
            for a, b in pairs:
                target = min(a["final_global_psnr"], b["final_global_psnr"])
                diff.append(energy_to_reach(a["quality"], a[key], target)
                            - energy_to_reach(b["quality"], b[key], target))
            add("efficiency", f"communication {what} to reach the common quality, psfl - "
                f"{peer}", unit, mean_ci(diff), -1)
        at_equal = []
        for a, b in pairs:
            budget = min(a["cum_energy"][-1], b["cum_energy"][-1])
            at_equal.append(quality_at_energy(a["quality"], a["cum_energy"], budget)
                            - quality_at_energy(b["quality"], b["cum_energy"], budget))
        add("efficiency", f"global PSNR at equal communication energy, psfl - {peer}", "dB",
            mean_ci(at_equal), +1)
    if {"psfl", "psfl-no-agp"} <= have:
        add("pruning", "communication energy, psfl - psfl-no-agp", "J",
            paired_ci(per_seed(runs, "psfl", seeds, "comm_energy_j"),
                            per_seed(runs, "psfl-no-agp", seeds, "comm_energy_j")), -1)
        ci = paired_ci(per_seed(runs, "psfl", seeds, "final_global_psnr"),
                             per_seed(runs, "psfl-no-agp", seeds, "final_global_psnr"))
        out.append({"finding": FINDINGS["pruning"],
                    "measure": "its cost: final global PSNR, psfl - psfl-no-agp", "unit": "dB",
                    "mean": ci["mean"], "ci95": ci["half"], "n": ci["n"], "verdict": "(cost)"})
    return out


def plain_federated(strategies: list[str]) -> list[str]:
    """The requested strategies that federate without PLD or AGP (FedAvg, FedProx, FedAdam…):
    PSFL's peers in finding 2."""
    from psfl.federation.strategies import STRATEGIES

    plain = STRATEGIES.names(aggregates=True, uses_pld=False, uses_agp=False)
    return [s for s in plain if s in strategies]
