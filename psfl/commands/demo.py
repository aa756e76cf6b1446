"""``psfl demo`` — the main job on the embedded default data, end to end.

Stages (each writes its CSV/PNG as soon as it finishes, so an interruption keeps what is done):
1. data: the embedded natural-image patches and their non-IID split across the MUs.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir

HELP = "Run the main job on the embedded data and write a results table, CSVs and plots."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smallest settings (a smoke run in well under a minute)")


def stage_data(config: Config, run: RunDir) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from psfl.data import load_images, partition, partition_stats

    train, test = load_images(config.data, seed=config.run.seed)
    parts = partition(train.labels, config.data.num_mus, config.data.partition, config.data.alpha,
                      seed=config.run.seed)
    stats = partition_stats(train.labels, parts)
    rows = []
    names = train.label_names
    for mu, idx in enumerate(parts):
        counts = np.bincount(train.labels[idx], minlength=len(names))
        rows.append({"mu": mu, "images": len(idx), **{n: int(c) for n, c in zip(names, counts,
                                                                                strict=True)}})
    run.write_csv("partition.csv", rows)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 1.3]})
    grid = _mosaic(test.images[np.linspace(0, len(test) - 1, 32).astype(int)], cols=8)
    axes[0].imshow(grid)
    axes[0].set_title(f"{len(test)} held-back test patches (sample)")
    axes[0].axis("off")
    bottom = np.zeros(len(parts))
    for name in names:
        vals = np.array([r[name] for r in rows], float)
        axes[1].bar(range(len(parts)), vals, bottom=bottom, label=name)
        bottom += vals
    axes[1].set_xlabel("MU")
    axes[1].set_ylabel("training images")
    axes[1].set_title(f"{config.data.partition} split, α={config.data.alpha}: "
                      f"mean TV distance {stats['mean_tv']:.2f}")
    axes[1].legend(fontsize=7, ncol=2)
    run.save_figure(fig, "data.png")
    return {"train_images": len(train), "test_images": len(test), "partition": stats}


def _mosaic(images: np.ndarray, cols: int) -> np.ndarray:
    n, h, w, c = images.shape
    rows = -(-n // cols)
    out = np.ones((rows * (h + 2), cols * (w + 2), c), np.float32)
    for i, im in enumerate(images):
        r, q = divmod(i, cols)
        out[r * (h + 2):r * (h + 2) + h, q * (w + 2):q * (w + 2) + w] = im
    return out


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    if args.quick:
        config = config.replace("data", max_train=max(config.data.max_train, 0) or 400,
                                max_test=config.data.max_test or 100)
    summary: dict[str, Any] = {}
    summary["data"] = stage_data(config, run_dir)
    run_dir.log(f"data: {summary['data']}")
    print(f"data: {summary['data']['train_images']} training / {summary['data']['test_images']} "
          f"test patches, {config.data.num_mus} MUs "
          f"(mean TV distance {summary['data']['partition']['mean_tv']:.2f})")
    return summary
