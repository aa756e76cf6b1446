"""``psfl study`` — the paper's three findings: every strategy over several seeds, with 95 % CIs.

Runs each strategy (default: every registered strategy that declares ``in_default_study``, the
paper's arms psfl, psfl-no-pld, psfl-no-agp, fedavg-csc, fedprox-csc, local-only; others such as
fedadam-csc with ``--strategies``) for each seed ``run.seed, run.seed+1, …`` with the configured federation (bare-loop
backend: the same BS and MU code as Flower's, one trace per model for the whole study), each
into ``<out>/runs/<strategy>-s<seed>/``; a finished run is kept and not repeated when the study
is started again with the same ``--out``. The statistics and the rules that decide each finding
are :mod:`psfl.federation.study`.

Writes ``table.csv`` (mean ± 95 % CI per strategy: global and personalized PSNR/SSIM,
communication and computation energy, bits), ``findings.csv``, ``runs.csv`` (one row per run)
and one figure per finding: ``finding1_personalization.png``, ``finding2_efficiency.png``,
``finding3_pruning.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir

HELP = ("The paper's findings: every strategy over several seeds, a table with 95-percent "
        "confidence intervals and one figure per finding.")

#: The study's per-run budget unless the configuration sets it (fits 60 min on 2 cores).
STUDY_FEDERATION = {"rounds": 4, "local_steps": 32, "mentor_steps": 16, "eval_images": 64}
STUDY_BATCH = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, default=3, metavar="N",
                        help="seeds per strategy (run.seed, run.seed+1, ...; default 3)")
    parser.add_argument("--strategies", metavar="LIST",
                        help="comma-separated strategies (default: the paper's six arms; any "
                             "of psfl config --list's federation.strategy)")


def _strategies(text: str | None) -> list[str]:
    from psfl.federation.strategies import STRATEGIES

    if not text:
        return list(STRATEGIES.names(in_default_study=True))
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in STRATEGIES]
    if bad or not names:
        raise ValueError(f"--strategies {text!r}: unknown {', '.join(bad) or '(empty)'}; choose "
                         f"from {', '.join(STRATEGIES.names())}")
    return names


def _plain_federated(strategies: list[str]) -> list[str]:
    """The requested strategies that federate without PLD or AGP (FedAvg, FedProx, FedAdam…):
    PSFL's peers in finding 2."""
    from psfl.federation.strategies import STRATEGIES

    plain = STRATEGIES.names(aggregates=True, uses_pld=False, uses_agp=False)
    return [s for s in plain if s in strategies]


def _study_config(config: Config) -> Config:
    budget = {"federation": STUDY_FEDERATION, "semantic": {"batch_size": STUDY_BATCH}}
    return config.unless_chosen(budget).replace("federation", backend="loop")


def _read_csv(path: Path) -> list[dict[str, Any]]:
    def num(v: str) -> Any:
        try:
            return float(v)
        except ValueError:
            return v

    with open(path, newline="") as fh:
        return [{k: num(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _one_run(config: Config, path: Path) -> dict[str, Any]:
    """Run, resume or read back one strategy and seed; returns its headline numbers and curves.
    A run made with another configuration is refused (one line naming the keys)."""
    from psfl.commands.train import train
    from psfl.config import load_config
    from psfl.federation.checkpoint import config_changes

    if (path / "config.toml").is_file():
        changed = config_changes(load_config(path / "config.toml").to_dict(), config.to_dict())
        if changed:
            raise ValueError(f"{str(path)!r} holds a run made with another configuration "
                             f"({'; '.join(changed[:4])}); give the study another --out")
    summary_file = path / "summary.json"
    if not (summary_file.is_file() and
            json.loads(summary_file.read_text())["rounds"] == config.federation.rounds):
        with RunDir(path, "psfl study") as sub:
            sub.write_config(config)
            sub.write_summary(train(config, sub, echo=False, resume=True))
    summary = json.loads(summary_file.read_text())
    rounds = _read_csv(path / "rounds.csv")
    mu_rows = _read_csv(path / "mu_rounds.csv")
    # quality the MUs hold after round r: the model received at the start of round r+1, and
    # the closing evaluation after the last round
    quality = [r["received_global_psnr"] for r in rounds[1:]] + [summary["final_global_psnr"]]
    last = [r for r in mu_rows if r["round"] == rounds[-1]["round"]]
    return {
        "final_global_psnr": summary["final_global_psnr"],
        "final_global_ssim": summary["final_global_ssim"],
        "personal_psnr": summary["personal_psnr_last_round"],
        "personal_ssim": summary.get("personal_ssim_last_round"),
        "comm_energy_j": summary["comm_energy_j"], "compute_energy_j": summary["compute_energy_j"],
        "bits": summary["bits_down"] + summary["bits_up"],
        "quality": quality,
        "cum_energy": list(np.cumsum([r["comm_energy_j"] for r in rounds])),
        "cum_bits": list(np.cumsum([r["bits_down"] + r["bits_up"] for r in rounds])),
        "personal_by_mu": {int(r["mu"]): r.get("personal_psnr") for r in last},
        "mentor_by_mu": {int(r["mu"]): r.get("mentor") for r in last if r.get("mentor")},
        "prune": [(r["downlink_snr_db"], r["prune_ratio"]) for r in mu_rows],
        "mentor_gain_db": [r["mentor_gain_db"] for r in mu_rows
                           if isinstance(r.get("mentor_gain_db"), float)],
    }


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    from psfl.federation import study
    from psfl.results import progress

    strategies = _strategies(args.strategies)
    if args.seeds < 1:
        raise ValueError(f"--seeds {args.seeds} must be >= 1 (3 or more give a 95 % interval)")
    config = _study_config(config)
    run_dir.write_config(config)
    seeds = [config.run.seed + i for i in range(args.seeds)]
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    jobs = [(s, seed) for seed in seeds for s in strategies]
    bar = progress(jobs, desc="study runs", unit="run")
    for strategy, seed in bar:
        cfg = config.replace("run", seed=seed).replace("federation", strategy=strategy)
        runs[(strategy, seed)] = _one_run(cfg, run_dir.file("runs") / f"{strategy}-s{seed}")
        r = runs[(strategy, seed)]
        run_dir.log(f"{strategy} seed {seed}: global {r['final_global_psnr']:.2f} dB, "
                    f"personal {r['personal_psnr']:.2f} dB, comm {r['comm_energy_j']:.2f} J",
                    echo=True)
    run_dir.write_csv("runs.csv", [
        {"strategy": s, "seed": seed, **{k: v for k, v in r.items() if not isinstance(v, list | dict)}}
        for (s, seed), r in runs.items()])
    table = study.summarize_runs(runs)
    run_dir.write_csv("table.csv", table)
    findings = _findings(runs, strategies, seeds)
    run_dir.write_csv("findings.csv", findings)
    _figures(runs, strategies, seeds, run_dir, config)
    for f in findings:
        print(f"{f['finding']}: {f['verdict']} — {f['measure']}: {f['mean']:+.3g} ± "
              f"{f['ci95']:.3g} {f['unit']} (n={f['n']})")
    return {"strategies": strategies, "seeds": seeds, "table": table, "findings": findings}


def _per_seed(runs: dict, strategy: str, seeds: list[int], key: str) -> dict[int, float]:
    return {s: runs[(strategy, s)][key] for s in seeds if (strategy, s) in runs}


def _findings(runs: dict, strategies: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    from psfl.federation import study

    out = []

    def add(name: str, measure: str, unit: str, ci: dict[str, float], sign: int) -> None:
        out.append({"finding": study.FINDINGS[name], "measure": measure, "unit": unit,
                    "mean": ci["mean"], "ci95": ci["half"], "n": ci["n"],
                    "verdict": study.finding(ci, sign)})

    have = set(strategies)
    if {"psfl", "psfl-no-pld"} <= have:
        add("personalization", "personalized PSNR, psfl - psfl-no-pld", "dB",
            study.paired_ci(_per_seed(runs, "psfl", seeds, "personal_psnr"),
                            _per_seed(runs, "psfl-no-pld", seeds, "personal_psnr")), +1)
    for peer in _plain_federated(strategies):
        if "psfl" in have:
            for what, key, unit in (("energy", "cum_energy", "J"), ("bits", "cum_bits", "bit")):
                diff = {}
                for s in seeds:
                    a, b = runs.get(("psfl", s)), runs.get((peer, s))
                    if a is None or b is None:
                        continue
                    target = min(a["final_global_psnr"], b["final_global_psnr"])
                    diff[s] = (study.energy_to_reach(a["quality"], a[key], target)
                               - study.energy_to_reach(b["quality"], b[key], target))
                add("efficiency", f"communication {what} to reach the common quality, psfl - "
                    f"{peer}", unit, study.mean_ci(list(diff.values())), -1)
    if {"psfl", "psfl-no-agp"} <= have:
        add("pruning", "communication energy, psfl - psfl-no-agp", "J",
            study.paired_ci(_per_seed(runs, "psfl", seeds, "comm_energy_j"),
                            _per_seed(runs, "psfl-no-agp", seeds, "comm_energy_j")), -1)
        ci = study.paired_ci(_per_seed(runs, "psfl", seeds, "final_global_psnr"),
                             _per_seed(runs, "psfl-no-agp", seeds, "final_global_psnr"))
        out.append({"finding": study.FINDINGS["pruning"],
                    "measure": "its cost: final global PSNR, psfl - psfl-no-agp", "unit": "dB",
                    "mean": ci["mean"], "ci95": ci["half"], "n": ci["n"], "verdict": "(cost)"})
    return out


def _figures(runs: dict, strategies: list[str], seeds: list[int], run_dir: RunDir,
             config: Config) -> None:
    import matplotlib

    matplotlib.use("Agg")
    fed = config.federation
    from psfl.plotting import count

    settings = (f"mean of {count(len(seeds), 'seed')} "
                f"({', '.join(map(str, seeds))}); each run {config.data.num_mus} MUs, "
                f"{fed.rounds} rounds × {fed.local_steps} local steps, AGP budget "
                f"{fed.agp_energy_budget_j:g} J")
    _figure_efficiency(runs, strategies, seeds, run_dir, settings)
    _figure_personalization(runs, strategies, seeds, run_dir, settings)
    _figure_pruning(runs, strategies, seeds, run_dir, settings)


def _mean_curve(runs: dict, seeds: list[int], strategy: str, key: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """``strategy``'s ``key`` per round and its quality (the global PSNR the MUs hold after each
    round), each the mean over the seeds that ran."""
    per = [runs[(strategy, s)] for s in seeds if (strategy, s) in runs]
    return (np.mean([r[key] for r in per], axis=0),
            np.mean([r["quality"] for r in per], axis=0))


def _figure_efficiency(runs: dict, strategies: list[str], seeds: list[int],
                       run_dir: RunDir, settings: str) -> None:
    """Finding 2: quality against cumulative communication energy and bits."""
    from psfl.plotting import caption, color, si_axis, subplots

    fig, axes = subplots(1, 2, figsize=(11, 4))
    for strategy in [s for s in strategies if s == "psfl" or s in _plain_federated(strategies)]:
        for ax, key, label in ((axes[0], "cum_energy", "cumulative communication energy [J]"),
                               (axes[1], "cum_bits", "cumulative data sent")):
            x, q = _mean_curve(runs, seeds, strategy, key)
            ax.plot(x, q, marker="o", color=color(strategy), label=strategy)
            ax.set_xlabel(label)
    si_axis(axes[1], "x", "bit")
    for ax in axes:
        ax.set_ylabel("global PSNR at the MUs [dB]")
        ax.legend()
    fig.suptitle("Finding 2: quality against communication cost")
    caption(fig, settings)
    run_dir.save_figure(fig, "finding2_efficiency.png")


def _personal_by_mentor(runs: dict, seeds: list[int]) -> dict[str, dict[str, list[float]]]:
    """Personalized PSNR of each MU with PLD (psfl) and without (psfl-no-pld), grouped by the
    preset of the MU's mentor in the psfl run; seeds where either run is missing are left out."""
    presets: dict[str, dict[str, list[float]]] = {}
    for s in seeds:
        a, b = runs.get(("psfl", s)), runs.get(("psfl-no-pld", s))
        if a is None or b is None:
            continue
        for mu, name in a["mentor_by_mu"].items():
            d = presets.setdefault(name, {"psfl": [], "psfl-no-pld": []})
            d["psfl"].append(a["personal_by_mu"][mu])
            d["psfl-no-pld"].append(b["personal_by_mu"].get(mu))
    return presets


def _figure_personalization(runs: dict, strategies: list[str], seeds: list[int],
                            run_dir: RunDir, settings: str) -> None:
    """Finding 1: personalized quality with and without PLD, by mentor preset (95 % CI)."""
    from psfl.federation.study import mean_ci
    from psfl.plotting import caption, color, subplots

    fig, ax = subplots(figsize=(6.4, 4))
    if {"psfl", "psfl-no-pld"} <= set(strategies):
        presets = _personal_by_mentor(runs, seeds)
        names = sorted(presets)
        for j, strategy in enumerate(("psfl", "psfl-no-pld")):
            cis = [mean_ci(presets[n][strategy]) for n in names]
            ax.bar(np.arange(len(names)) + 0.38 * (j - 0.5), [c["mean"] for c in cis], 0.38,
                   yerr=[0 if not np.isfinite(c["half"]) else c["half"] for c in cis],
                   capsize=3, color=color(strategy), label=strategy)
        ax.set_xticks(range(len(names)), [f"{n}\n(MUs whose mentor it is)" for n in names])
        lo = min((min(v for v in d[k] if v is not None) for d in presets.values()
                  for k in d if d[k]), default=0)
        ax.set_ylim(bottom=max(0, lo - 2))
        ax.legend()
    ax.set_ylabel("personalized PSNR, last round [dB]")
    ax.set_title("Finding 1: personalized quality with and without PLD (95 % CI)")
    ax.grid(False, axis="x")
    caption(fig, settings)
    run_dir.save_figure(fig, "finding1_personalization.png")


def _figure_pruning(runs: dict, strategies: list[str], seeds: list[int],
                    run_dir: RunDir, settings: str) -> None:
    """Finding 3: PSNR against communication energy with and without AGP; the pruning ratio
    against the MU's downlink SNR."""
    from psfl.plotting import caption, color, subplots

    fig, axes = subplots(1, 2, figsize=(11, 4))
    for strategy in [s for s in ("psfl", "psfl-no-agp") if s in strategies]:
        x, q = _mean_curve(runs, seeds, strategy, "cum_energy")
        axes[0].plot(x, q, marker="o", color=color(strategy), label=strategy)
    axes[0].set_xlabel("cumulative communication energy [J]")
    axes[0].set_ylabel("global PSNR at the MUs [dB]")
    axes[0].legend()
    if "psfl" in strategies:
        pts = np.array([p for s in seeds if ("psfl", s) in runs for p in runs[("psfl", s)]["prune"]])
        if len(pts):
            axes[1].scatter(pts[:, 0], pts[:, 1], s=12, alpha=0.6, color=color("psfl"),
                            label="psfl, one MU in one round")
            axes[1].legend()
    axes[1].set_xlabel("downlink SNR of the MU in the round [dB]")
    axes[1].set_ylabel("AGP pruning ratio")
    fig.suptitle("Finding 3: adaptive global pruning")
    caption(fig, settings)
    run_dir.save_figure(fig, "finding3_pruning.png")
