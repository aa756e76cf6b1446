"""``psfl train`` — federated training (PSFL or a baseline) with per-round accounting."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from psfl.config import Config
from psfl.results import RunDir, progress

HELP = ("Federated training (psfl, its ablations, fedavg/fedprox, local-only) on Flower, "
        "checkpointed every round; --resume DIR continues a run.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the run in DIR (its config.toml is used; finished rounds "
                             "are kept)")
    parser.add_argument("--strategy", help="shortcut for --set federation.strategy=NAME")
    parser.add_argument("--rounds", type=int, help="shortcut for --set federation.rounds=N")


def with_budget(config: Config, federation: dict[str, Any], batch_size: int) -> Config:
    """A command's federation budget and batch size, except where the user's configuration file
    or --set chose (a value that differs from the default counts as chosen)."""
    defaults = Config.from_dict({})
    for key, value in federation.items():
        if getattr(config.federation, key) == getattr(defaults.federation, key):
            config = config.replace("federation", **{key: value})
    if config.semantic.batch_size == defaults.semantic.batch_size:
        config = config.replace("semantic", batch_size=batch_size)
    return config


def train(config: Config, run_dir: RunDir, echo: bool = True) -> dict[str, Any]:
    """Run the configured federation into ``run_dir`` (resuming its checkpoint if any)."""
    from psfl.federation.core import run_loop
    from psfl.federation.report import write_report

    fed = config.federation
    bar = progress(total=fed.rounds, desc=f"{fed.strategy} rounds", unit="round")
    ckpt = Path(run_dir.path) / "checkpoint" / "state.json"
    if ckpt.is_file():
        import json

        done = json.loads(ckpt.read_text())["completed_rounds"]
        bar.update(min(done, fed.rounds))
        run_dir.log(f"resuming after {done} finished rounds", echo=echo)

    def on_round(s: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix(psnr=f"{s['personal_psnr']:.2f}", energy=f"{s['comm_energy_j']:.2f}J")
        run_dir.log(f"round {s['round']}: {s}")

    def log(msg: str) -> None:
        run_dir.log(msg, echo=echo)

    if fed.backend == "flower":
        from psfl.federation.apps import run_flower_simulation

        bs = run_flower_simulation(config, run_dir.path, log=log, on_round=on_round)
    else:
        bs = run_loop(config, run_dir.path, log=log, progress=on_round)
    bar.close()
    return write_report(bs, run_dir)


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    if args.strategy:
        config = config.replace("federation", strategy=args.strategy)
    if args.rounds:
        config = config.replace("federation", rounds=args.rounds)
    run_dir.write_config(config)
    summary = train(config, run_dir)
    psnr = summary["final_global_psnr"]
    print(f"{summary['strategy']}: {summary['rounds']} rounds, final global PSNR "
          f"{'n/a' if psnr is None else f'{psnr:.2f} dB'}, communication "
          f"{summary['comm_energy_j']:.2f} J, computation {summary['compute_energy_j']:.2f} J")
    return summary
