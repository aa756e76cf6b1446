"""Figures of the federation: the MUs' non-IID split beside a sample of the held-back test
patches (``psfl demo``), and one figure per finding of ``psfl study``; in the one style of
:mod:`psfl.plotting`."""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir, mosaic

__all__ = ["data_figure", "study_figures"]


def data_figure(run: RunDir, train: Any, test: Any, rows: list[dict[str, Any]],
                stats: dict[str, Any], data: Any) -> None:
    """data.png: 32 held-back test patches, and the training images per MU stacked by source
    photo (``rows``: partition.csv), with the split's mean TV distance (``stats``)."""
    from psfl.plotting import caption, integer_ticks, subplots

    fig, axes = subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 1.3]})
    sample = test.images[np.linspace(0, len(test) - 1, 32).astype(int)]
    grid = mosaic([sample[i:i + 8] for i in range(0, 32, 8)])
    axes[0].imshow(grid)
    axes[0].set_title(f"{len(test)} held-back test patches (sample)")
    axes[0].axis("off")
    bottom = np.zeros(len(rows))
    for name in train.label_names:
        vals = np.array([r[name] for r in rows], float)
        axes[1].bar(range(len(rows)), vals, bottom=bottom, label=name)
        bottom += vals
    axes[1].set_xlabel("MU")
    axes[1].set_ylabel("training images")
    axes[1].set_title(f"{data.partition} split, α = {data.alpha}: "
                      f"mean TV distance {stats['mean_tv']:.2f}")
    integer_ticks(axes[1], "x")
    axes[1].legend(fontsize=7, ncol=2)
    caption(fig, f"{len(train)} training patches of {data.patch_size}×"
            f"{data.patch_size} px split over {len(rows)} MUs; test patches come from "
            "held-back regions of each photo, never in the training data (psfl.data)")
    run.save_figure(fig, "data.png")


def study_figures(runs: dict, strategies: list[str], seeds: list[int], run_dir: RunDir,
             config: Config) -> None:
    """The study's figure per finding (finding1_personalization, finding2_efficiency,
    finding3_pruning), each the mean over ``seeds``."""
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
    from psfl.federation.study import plain_federated
    from psfl.plotting import caption, color, si_axis, subplots

    fig, axes = subplots(1, 2, figsize=(11, 4))
    for strategy in [s for s in strategies if s == "psfl" or s in plain_federated(strategies)]:
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
