"""Results of a federated run: CSV series, plots and a summary, from a finished BS."""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.federation.roles import BaseStation
from psfl.results import RunDir

__all__ = ["summarize", "write_report"]


def summarize(bs: BaseStation) -> dict[str, Any]:
    """Headline numbers of a run (means over MUs, totals over rounds)."""
    rows, final = bs.round_rows, [r for r in bs.final_rows if "global_psnr" in r]

    def total(key: str) -> float:
        return float(sum(r[key] for r in rows))

    final_wasted = float(sum(r.get("wasted_compute_energy_j") or 0.0 for r in bs.final_rows))

    out: dict[str, Any] = {
        "strategy": bs.fed.strategy, "rounds": bs.completed,
        "final_global_psnr": float(np.mean([r["global_psnr"] for r in final])) if final else None,
        "final_own_psnr": float(np.mean([r["own_psnr"] for r in final])) if final else None,
        "final_global_ssim": float(np.mean([r["global_ssim"] for r in final])) if final else None,
        "personal_psnr_last_round": rows[-1]["personal_psnr"] if rows else None,
        "personal_ssim_last_round": rows[-1].get("personal_ssim") if rows else None,
        "bits_down": total("bits_down"), "bits_up": total("bits_up"),
        "comm_energy_j": total("comm_energy_j"), "mu_comm_energy_j": total("mu_comm_energy_j"),
        # computation the MUs spent, wasted work included (core's module docstring)
        "compute_energy_j": total("compute_energy_j") + final_wasted,
        "wasted_compute_energy_j": sum(r.get("wasted_compute_energy_j") or 0.0
                                       for r in rows) + final_wasted,
        "rejected_updates": int(sum(r["rejected"] for r in rows)),
        "failed_mus": int(sum(r["failed"] for r in rows)),
    }
    mentors = sorted({(r["mu"], r["mentor"]) for r in bs.mu_rows if r.get("mentor")})
    if mentors:
        out["mentors"] = {str(mu): name for mu, name in mentors}
    return out


def _settings(bs: BaseStation) -> list[str]:
    """The caption of the run's figures: its budget and channel."""
    from psfl.plotting import channel_name, count

    fed, cfg = bs.fed, bs.config
    return [f"{len(bs.population)} MUs, {count(bs.completed, 'round')} × {fed.local_steps} "
            f"local steps (mentor {fed.mentor_steps}), batch {cfg.semantic.batch_size}",
            f"{channel_name(fed.scenario)} + {channel_name(fed.small_scale)}, AGP budget "
            f"{fed.agp_energy_budget_j:g} J, seed {cfg.run.seed}"]


def write_report(bs: BaseStation, run: RunDir, prefix: str = "") -> dict[str, Any]:
    """Write ``rounds.csv``, ``mu_rounds.csv``, ``final.csv`` and four figures (PNG and PDF);
    return the summary."""
    from psfl.plotting import caption, color, integer_ticks, subplots

    run.write_csv(f"{prefix}rounds.csv", bs.round_rows)
    run.write_csv(f"{prefix}mu_rounds.csv", bs.mu_rows)
    if bs.final_rows:
        run.write_csv(f"{prefix}final.csv", bs.final_rows)
    rounds = [r["round"] for r in bs.round_rows]
    title, settings = bs.fed.strategy, _settings(bs)

    fig, ax = subplots(figsize=(6, 4))
    for key, label, scheme in (("received_global_psnr", "global model, global test", "global"),
                               ("received_own_psnr", "global model, own test", "own"),
                               ("personal_psnr", "after local step, own test", "personalized")):
        ax.plot(rounds, [r[key] for r in bs.round_rows], marker="o", color=color(scheme),
                label=label)
    ax.set_xlabel("round")
    ax.set_ylabel("PSNR [dB] (mean over MUs)")
    ax.set_title(f"{title}: quality per round (the global model evaluated as received)")
    integer_ticks(ax, "x")
    ax.legend()
    caption(fig, settings)
    run.save_figure(fig, f"{prefix}psnr_vs_round.png")

    fig, ax = subplots(figsize=(6, 4))
    comm = [r["comm_energy_j"] for r in bs.round_rows]
    comp = [r["compute_energy_j"] for r in bs.round_rows]
    ax.bar(rounds, comm, color=color("communication"), label="communication (BS down + MU up)")
    ax.bar(rounds, comp, bottom=comm, color=color("computation"), label="MU computation")
    ax.set_xlabel("round")
    ax.set_ylabel("energy [J] (all MUs)")
    ax.set_title(f"{title}: energy per round")
    integer_ticks(ax, "x")
    ax.legend()
    caption(fig, settings)
    run.save_figure(fig, f"{prefix}energy_vs_round.png")

    fig, ax = subplots(figsize=(6, 4))
    cum = np.cumsum([c + p for c, p in zip(comm, comp, strict=True)])
    ax.plot(cum, [r["personal_psnr"] for r in bs.round_rows], marker="o",
            color=color("personalized"), label="personalized")
    ax.plot(cum, [r["received_global_psnr"] for r in bs.round_rows], marker="s",
            color=color("global"), label="global")
    ax.set_xlabel("cumulative energy [J]")
    ax.set_ylabel("PSNR [dB]")
    ax.set_title(f"{title}: quality against energy spent")
    ax.legend()
    caption(fig, settings)
    run.save_figure(fig, f"{prefix}quality_vs_energy.png")

    fig, ax = subplots(figsize=(6, 4))
    snr = [r["downlink_snr_db"] for r in bs.mu_rows]
    ratio = [r["prune_ratio"] for r in bs.mu_rows]
    sc = ax.scatter(snr, ratio, c=[r["round"] for r in bs.mu_rows], cmap="viridis")
    bar = fig.colorbar(sc, ax=ax, label="round")
    integer_ticks(bar.ax, "y")
    ax.set_xlabel("downlink SNR [dB]")
    ax.set_ylabel("AGP pruning ratio")
    ax.set_title(f"{title}: pruning ratio against channel"
                 + ("" if bs.strategy.uses_agp else " (no AGP: nothing pruned)"))
    caption(fig, settings)
    run.save_figure(fig, f"{prefix}prune_vs_snr.png")
    return summarize(bs)
