"""``psfl demo`` — the main job on the embedded default data, end to end.

Stages (each writes its CSV/PNG as soon as it finishes, so an interruption keeps what is done):

1. data: the embedded natural-image patches and their non-IID split across the MUs;
2. federation: PSFL (PLD + AGP) with 5 MUs for a few rounds in Flower's simulation, each MU's
   channel re-drawn every round from the UMi link budget;
3. link: the global student and one MU's mentor over an SNR sweep, beside the digital baseline
   (``semantic.baseline_codec`` + 5G LDPC + QAM, MCS thresholds from the table shipped for the
   channel configuration) at the same number of channel uses;
4. energy: model-transfer energy against distance with and without AGP, computation against
   communication.

Settings (overridable with ``--set``): the demo starts from the shipped weights
(``federation.init = "pretrained"``) and uses ``federation.rounds = 5``,
``federation.local_steps = 40``, ``federation.mentor_steps = 16``, ``semantic.batch_size = 16``
and 64 evaluation images, unless the configuration sets them — a budget that finishes within ten
minutes on 2 CPU cores. It ends with a list of checks (what the main job should show, each
measured, ``yes``/``NO``), also kept in ``summary.json``.
"""

from __future__ import annotations

import argparse
from typing import Any

from psfl.config import Config
from psfl.results import RunDir

HELP = "Run the main job on the embedded data and write a results table, CSVs and plots."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smallest settings (a smoke run in well under a minute)")


DEMO_FEDERATION = {"rounds": 5, "local_steps": 40, "mentor_steps": 16, "eval_images": 64}
DEMO_BATCH = 16
QUICK = {"data": {"max_train": 160, "max_test": 48, "num_mus": 2},
         "federation": {"rounds": 1, "local_steps": 4, "mentor_steps": 2, "eval_images": 16,
                        "backend": "loop"},
         "semantic": {"batch_size": 8, "eval_snr_db": [0.0, 10.0]}}


def _demo_config(config: Config, quick: bool) -> Config:
    """The demo's settings (and with ``quick`` the smallest ones), except for every key the
    user's configuration file or --set chose, whatever its value."""
    config = config.unless_chosen({"federation": DEMO_FEDERATION,
                                   "semantic": {"batch_size": DEMO_BATCH}})
    return config.unless_chosen(QUICK) if quick else config


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    from psfl.commands import energy, train
    from psfl.federation.demo import demo_checks, mentor_gains, stage_data, stage_link
    from psfl.semantic.presets.registry import CODECS

    config = _demo_config(config, args.quick)
    run_dir.write_config(config)
    summary: dict[str, Any] = {}
    summary["data"] = stage_data(config, run_dir)
    run_dir.log(f"data: {summary['data']}")
    print(f"data: {summary['data']['train_images']} training / {summary['data']['test_images']} "
          f"test patches, {config.data.num_mus} MUs "
          f"(mean TV distance {summary['data']['partition']['mean_tv']:.2f})")

    fed = train.train(config, run_dir)
    summary["federation"] = fed
    mentors = fed.get("mentors", {})
    order = CODECS.names(family="gsc")  # smallest first: show the MU with the largest mentor
    mentor_mu = int(max(mentors, key=lambda mu: order.index(mentors[mu]))) if mentors else 0
    summary["link"] = stage_link(config, run_dir, mentor_mu)
    summary["checks"] = demo_checks(fed, summary["link"], mentor_gains(run_dir))
    summary["energy"] = energy.run(
        argparse.Namespace(distances="10:600:12" if args.quick else "10:600:30"), config, run_dir)
    _print_table(summary)
    return summary


def _print_table(summary: dict[str, Any]) -> None:
    from psfl.federation.demo import LINK_CODECS
    fed = summary["federation"]
    lines = [
        "",
        f"{'PSFL demo':<44}{'value':>14}",
        f"{'-' * 58}",
        f"{'rounds':<44}{fed['rounds']:>14}",
        f"{'final global PSNR at the MUs [dB]':<44}{fed['final_global_psnr']:>14.2f}",
        f"{'final global SSIM':<44}{fed['final_global_ssim']:>14.3f}",
        f"{'personalized PSNR, last round [dB]':<44}{fed['personal_psnr_last_round']:>14.2f}",
        f"{'communication energy, all rounds [J]':<44}{fed['comm_energy_j']:>14.2f}",
        f"{'  of which MU uplink [J]':<44}{fed['mu_comm_energy_j']:>14.3f}",
        f"{'MU computation energy, all rounds [J]':<44}{fed['compute_energy_j']:>14.2f}",
        f"{'bits sent down / up [Mbit]':<44}"
        f"{fed['bits_down'] / 1e6:>7.1f} /{fed['bits_up'] / 1e6:>5.1f}",
    ]
    for row in summary["link"]:
        text = ", ".join(f"{key} {row[key + '_psnr']:.1f}" for key in LINK_CODECS
                         if key + "_psnr" in row)
        lines.append(f"link @ {row['snr_db']:>4.0f} dB: {text}, digital {row['digital_psnr']:.1f}")
    lines.append(f"AGP downlink energy saved (median budget, 10-600 m): "
                 f"{100 * summary['energy']['mean_downlink_energy_saved']:.1f} %")
    lines.append("")
    lines += [f"{'yes' if ok else 'NO ':<4} {text}" for text, ok in summary["checks"].items()]
    print("\n".join(lines))
