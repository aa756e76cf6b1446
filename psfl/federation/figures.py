"""Figures of the federated data (``psfl demo``): the MUs' non-IID split beside a sample of the
held-back test patches, in the one style of :mod:`psfl.plotting`."""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.results import RunDir, mosaic

__all__ = ["data_figure"]


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
