"""``psfl train`` — federated training (PSFL or a baseline) with per-round accounting."""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any

from psfl.config import Config
from psfl.results import RunDir, progress

HELP = ("Federated training (psfl, its ablations, fedavg/fedprox/fedadam, local-only) on "
        "Flower, checkpointed every round; --resume DIR continues a run.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the run in DIR (its config.toml is used; finished rounds "
                             "are kept)")
    parser.add_argument("--strategy", help="shortcut for --set federation.strategy=NAME (see "
                        "psfl config --list)")
    parser.add_argument("--rounds", type=int, help="shortcut for --set federation.rounds=N")


def train(config: Config, run_dir: RunDir, echo: bool = True,
          resume: bool = False) -> dict[str, Any]:
    """Run the configured federation into ``run_dir``.

    With ``resume`` the run's checkpoint is continued; without it, a checkpoint of an earlier
    run in ``run_dir`` is moved into ``versions/<n>/`` and the run starts afresh. An interrupt
    raises :class:`psfl.errors.Interrupted` naming the rounds kept and how to go on.
    """
    from psfl.data import check_data
    from psfl.errors import Interrupted
    from psfl.federation.cache import check_shares
    from psfl.federation.checkpoint import RunLayout
    from psfl.federation.loop import run_loop
    from psfl.federation.report import write_report
    from psfl.federation.uplink import check_uplink

    fed = config.federation
    layout = RunLayout(run_dir.path)
    check_data(config.data)
    check_uplink(config)  # selection and shared uplink: refused before anything moves
    check_shares(config)  # every MU gets its images (data.num_mus), or one line and exit 2
    done = 0
    if resume:
        done = layout.completed_rounds()
        run_dir.log(f"resuming after {done} finished rounds", echo=echo)
    elif layout.exists():
        dest = run_dir.previous or run_dir.new_version()
        layout.archive(dest)
        run_dir.log(f"checkpoint of an earlier run moved to {dest.relative_to(run_dir.path)}/",
                    echo=echo)
    bar = progress(total=fed.rounds, desc=f"{fed.strategy} rounds", unit="round")
    bar.update(min(done, fed.rounds))

    def on_round(s: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix(psnr=f"{s['personal_psnr']:.2f}", energy=f"{s['comm_energy_j']:.2f}J")
        run_dir.log(f"round {s['round']}: {s}")

    def log(msg: str) -> None:
        run_dir.log(msg, echo=echo)

    try:
        if fed.backend == "flower":
            from psfl.federation.apps import run_flower_simulation

            bs = run_flower_simulation(config, run_dir.path, log=log, on_round=on_round)
        else:
            bs = run_loop(config, run_dir.path, log=log, progress=on_round)
    except KeyboardInterrupt:
        bar.close()
        kept = layout.completed_rounds()
        how = (f"resume with: psfl train --resume {shlex.quote(str(run_dir.path))}"
               if run_dir.command == "psfl train" else
               f"the finished rounds are kept in {layout.checkpoint_dir}/")
        raise Interrupted(f"interrupted after round {kept} of {fed.rounds}; {how}") from None
    bar.close()
    return write_report(bs, run_dir)


def overrides(args: argparse.Namespace) -> list[str]:
    """The shortcuts as ``--set`` overrides: the CLI applies them with the others, so that they
    count as chosen and ``--resume`` checks them before anything is written."""
    out = []
    if args.strategy is not None:
        out.append(f"federation.strategy={json.dumps(args.strategy)}")
    if args.rounds is not None:
        out.append(f"federation.rounds={args.rounds}")
    return out


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    summary = train(config, run_dir, resume=args.resume is not None)
    psnr = summary["final_global_psnr"]
    print(f"{summary['strategy']}: {summary['rounds']} rounds, final global PSNR "
          f"{'n/a' if psnr is None else f'{psnr:.2f} dB'}, communication "
          f"{summary['comm_energy_j']:.2f} J, computation {summary['compute_energy_j']:.2f} J")
    return summary
