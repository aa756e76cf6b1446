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
    from psfl.federation.figures import study_figures
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
    findings = study.findings(runs, strategies, seeds)
    run_dir.write_csv("findings.csv", findings)
    study_figures(runs, strategies, seeds, run_dir, config)
    for f in findings:
        print(f"{f['finding']}: {f['verdict']} — {f['measure']}: {f['mean']:+.3g} ± "
              f"{f['ci95']:.3g} {f['unit']} (n={f['n']})")
    return {"strategies": strategies, "seeds": seeds, "table": table, "findings": findings}
