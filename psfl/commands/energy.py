"""``psfl energy`` — communication and computation energy sweeps, with and without AGP."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from psfl.config import Config, ConfigError
from psfl.results import RunDir

HELP = ("Energy sweeps: model-transfer energy against MU-BS distance with and without AGP, "
        "pruning ratio against SNR, computation against communication per round.")


#: Most distances one sweep may have: each runs one AGP pruning search (tens of milliseconds)
#: and is one point of the log-log plots, which cannot show more.
MAX_DISTANCES = 1000


def _distances(text: str) -> list[float]:
    """``START:STOP:COUNT`` → COUNT log-spaced distances [m]; anything else raises a
    :class:`~psfl.config.ConfigError` (one line, exit 2) before any work starts."""
    try:
        lo, hi, n = (float(v) for v in text.split(":"))
    except ValueError:
        raise ConfigError(
            f"--distances {text!r}: expected START:STOP:COUNT in metres, e.g. 10:500:25") from None
    if not all(math.isfinite(v) for v in (lo, hi, n)):
        raise ConfigError(f"--distances {text!r}: START, STOP and COUNT must be finite numbers")
    if not (0 < lo < hi) or n < 2 or n != int(n):
        raise ConfigError(
            f"--distances {text!r}: need 0 < START < STOP and an integer COUNT >= 2")
    if n > MAX_DISTANCES:
        raise ConfigError(
            f"--distances {text!r}: COUNT {n:.0f} is more than {MAX_DISTANCES} (each distance runs "
            "one AGP pruning search and is one point of the plots, which cannot show more); "
            f"use COUNT <= {MAX_DISTANCES}")
    return list(np.geomspace(lo, hi, int(n)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Parsed in run(), not by argparse, so that a bad value is one line on stderr (argparse adds
    # the whole usage text).
    parser.add_argument("--distances", default="10:600:30", metavar="START:STOP:COUNT",
                        help="MU-BS distances [m], log-spaced, COUNT <= "
                             f"{MAX_DISTANCES} (default 10:600:30)")


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    """The sweeps and their plots; ``args.distances`` is the ``START:STOP:COUNT`` text."""
    distances = _distances(args.distances)
    import matplotlib

    matplotlib.use("Agg")

    from psfl.federation.energy import compute_vs_comm, distance_sweep

    rows = distance_sweep(config, distances)
    run_dir.write_csv("energy_vs_distance.csv", rows)
    comp = compute_vs_comm(config)
    run_dir.write_csv("compute_vs_comm.csv", comp)
    _figures(rows, comp, config, run_dir)

    d = [r["distance_m"] for r in rows]
    saved = [1 - r["energy_down_agp_j"] / r["energy_down_dense_j"] for r in rows]
    summary = {"distances_m": [min(d), max(d)],
               "max_prune_ratio": max(r["prune_ratio"] for r in rows),
               "mean_downlink_energy_saved": float(np.mean(saved)),
               "compute_vs_comm": comp}
    print(f"AGP saves {100 * summary['mean_downlink_energy_saved']:.1f} % of the downlink "
          f"model-transfer energy on average over {min(d):.0f}-{max(d):.0f} m "
          f"(budget {config.federation.agp_energy_budget_j:g} J)")
    return summary


def _figures(rows: list[dict[str, Any]], comp: list[dict[str, Any]], config: Config,
             run_dir: RunDir) -> None:
    """energy_vs_distance, energy_prune_vs_snr and compute_vs_comm (PNG and PDF)."""
    from psfl.plotting import caption, channel_name, color, subplots

    fed, phy = config.federation, config.phy
    settings = (f"{channel_name(fed.scenario)} median path loss, BS {fed.bs_tx_power_dbm:g} dBm, "
                f"MU {phy.tx_power_dbm:g} dBm, AGP downlink budget "
                f"{fed.agp_energy_budget_j:g} J per round")
    d = [r["distance_m"] for r in rows]
    fig, ax = subplots(figsize=(6.5, 4))
    for direction in ("downlink", "uplink"):
        for kind, ls in (("dense", "--"), ("agp", "-")):
            ax.loglog(d, [r[f"energy_{direction[:-4]}_{kind}_j"] for r in rows], ls=ls,
                      color=color(direction),
                      label=f"{direction}, {'AGP' if kind == 'agp' else 'dense'}")
    ax.axhline(fed.agp_energy_budget_j, color="0.5", lw=0.8, label="AGP downlink budget")
    ax.set_xlabel("MU–BS distance [m]")
    ax.set_ylabel("model-transfer energy per round [J]")
    ax.set_title(f"{channel_name(fed.scenario)}: model-transfer energy against distance")
    ax.grid(True, which="minor", alpha=0.15)
    ax.legend()
    caption(fig, settings)
    run_dir.save_figure(fig, "energy_vs_distance.png")

    fig, ax = subplots(figsize=(6, 4))
    ax.plot([r["downlink_snr_db"] for r in rows], [r["prune_ratio"] for r in rows], marker="o",
            color=color("downlink"))
    ax.set_xlabel("downlink SNR [dB]")
    ax.set_ylabel("AGP pruning ratio")
    ax.set_title("AGP: worse channel, more pruning")
    caption(fig, settings)
    run_dir.save_figure(fig, "energy_prune_vs_snr.png")

    # Linear axis with each bar's value written on it: on a log axis starting near the smallest
    # bar, a 1.17 J bar looked like nothing.
    fig, ax = subplots(figsize=(6.5, 4))
    names = [c["mentor"] for c in comp]
    x = np.arange(len(names))
    for off, key, label, scheme in (
            (-0.27, "compute_energy_j", "computation", "computation"),
            (0.0, "comm_energy_dense_j", "communication, dense", "communication"),
            (0.27, "comm_energy_agp_j", "communication, AGP", "downlink")):
        bars = ax.bar(x + off, [c[key] for c in comp], 0.27, label=label, color=color(scheme),
                      alpha=0.55 if key == "comm_energy_dense_j" else 1.0)
        ax.bar_label(bars, fmt="%.3g", fontsize=7, padding=2)
    ax.set_xticks(x, [f"mentor: {n}" for n in names])
    ax.set_ylabel("energy per MU and round [J]")
    ax.margins(y=0.12)
    ax.set_title(f"computation against communication at {comp[0]['distance_m']:.0f} m")
    ax.legend()
    caption(fig, settings)
    run_dir.save_figure(fig, "compute_vs_comm.png")
