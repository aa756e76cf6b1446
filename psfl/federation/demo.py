"""The stages of the main job (``psfl demo``) that are more than wiring: the data split and
its figure, the link sweep of the global student, the pretrained student it started from and
one mentor beside the digital baseline, and the checks the main job should pass (each measured).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir

__all__ = ["LINK_CODECS", "demo_checks", "mentor_gains", "stage_data", "stage_link"]


def stage_data(config: Config, run: RunDir) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")

    from psfl.data import load_images, partition, partition_stats
    from psfl.federation.figures import data_figure

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

    data_figure(run, train, test, rows, stats, config.data)
    return {"train_images": len(train), "test_images": len(test), "partition": stats}


#: The link stage's codecs: column prefix of link.csv → legend label (the mentor's gets its preset).
LINK_CODECS = {"student": "global student (csc)", "start": "pretrained student it started from",
               "mentor": "MU {mu} mentor ({preset})"}


def stage_link(config: Config, run: RunDir, mentor_mu: int) -> list[dict[str, Any]]:
    """The global student, the pretrained student it started from and one mentor over an SNR
    sweep beside the digital baseline (:func:`psfl.semantic.evaluate.sweep`); link.csv and
    link_psnr_vs_snr.png."""
    from psfl.data import load_images
    from psfl.federation.checkpoint import RunLayout
    from psfl.federation.models import build_student, initial_weights
    from psfl.phy import UplinkLink
    from psfl.plotting import channel_name, count
    from psfl.semantic import build_codec, figures
    from psfl.semantic.evaluate import digital_baseline, sweep

    fed = config.federation
    _, test = load_images(config.data, seed=config.run.seed)
    images = test.cap(fed.eval_images, config.run.seed + 2).images
    link = UplinkLink(dataclasses.replace(config.phy, channel=fed.small_scale))
    layout = RunLayout(run.path)
    codecs = {"student": build_student(config)}
    codecs["student"].set_weights(layout.global_weights())
    legends = {"student": LINK_CODECS["student"]}
    if fed.init == "pretrained":
        codecs["start"] = build_student(config)
        codecs["start"].set_weights(initial_weights(config))
        legends["start"] = LINK_CODECS["start"]
    mentor_file = layout.mu(mentor_mu).latest("mentor")
    if mentor_file is not None:
        rows = layout.load()[1]["mu_rows"]
        name = next(r["mentor"] for r in rows if r["mu"] == mentor_mu and r.get("mentor"))
        codecs["mentor"] = build_codec(name, config.data.patch_size, k=codecs["student"].k)
        codecs["mentor"].load_weights(mentor_file)
        legends["mentor"] = LINK_CODECS["mentor"].format(mu=mentor_mu, preset=name)
    baseline = digital_baseline(link.cfg, config.semantic, codecs["student"].k,
                                log=lambda m: run.log(m, echo=True))
    snrs = list(config.semantic.eval_snr_db)
    out = sweep(codecs, link, {"test": images}, snrs, baseline=baseline.scheme,
                on_set=lambda r: run.write_csv("link.csv", r))
    figures.psnr_vs_snr(
        run, out, snrs, codecs=legends, datasets=["test"], baseline=baseline.description,
        xlabel=f"SNR [dB] ({channel_name(fed.small_scale)}, {channel_name(config.phy.csi)} "
               "CSI); % = digital images delivered",
        title=f"k = {codecs['student'].k} channel uses per {config.data.patch_size}×"
              f"{config.data.patch_size} image",
        caption=[f"after {count(fed.rounds, 'round')} × {fed.local_steps} local steps, "
                 f"{config.data.num_mus} MUs", f"{len(images)} held-back test patches"],
        name="link_psnr_vs_snr.png", every=True)
    return out


def mentor_gains(run: RunDir) -> dict[int, float]:
    """Each MU's last measured mentor gain: its mentor's PSNR minus the received student's on
    the MU's own test images, before distilling (``mentor_gain_db`` of mu_rounds.csv)."""
    from psfl.federation.checkpoint import RunLayout

    gains: dict[int, float] = {}
    for row in RunLayout(run.path).load()[1]["mu_rows"]:  # rounds in order: the last one stays
        if isinstance(row.get("mentor_gain_db"), float):
            gains[int(row["mu"])] = row["mentor_gain_db"]
    return gains


def demo_checks(fed: dict[str, Any], link: list[dict[str, Any]],
                gains: dict[int, float] | None = None) -> dict[str, bool]:
    """What the main job should show, each measured (printed as yes/NO, kept in summary.json);
    ``gains``: :func:`mentor_gains`."""
    glob = fed["final_global_psnr"] or float("nan")
    student = [r["student_psnr"] for r in link]
    start = [r.get("start_psnr") for r in link]
    out = {
        f"global student >= 24 dB at the MUs ({glob:.2f} dB)": glob >= 24.0,
        "global student's link curve rises with SNR (0 dB < 10 dB < 20 dB, nearest points)":
            student[0] < student[len(student) // 2] < student[-1],
        f"personalized >= global at the MUs ({fed['personal_psnr_last_round']:.2f} vs "
        f"{glob:.2f} dB)": fed["personal_psnr_last_round"] >= glob,
    }
    if gains:
        worst = min(gains, key=gains.__getitem__)
        out[f"every mentor above the student it teaches (last measured; least: MU {worst} "
            f"{gains[worst]:+.2f} dB)"] = gains[worst] > 0
    if start[0] is not None:
        gain = float(np.mean(student) - np.mean(start))
        out[f"global student above the pretrained one it started from ({gain:+.2f} dB, mean "
            "over the sweep)"] = gain > 0
    for row in link:
        if row["snr_db"] in (0.0, 5.0):
            got = row["student_psnr"]
            out[f"global student beats the digital baseline at {row['snr_db']:g} dB ({got:.2f} "
                f"vs {row['digital_psnr']:.2f} dB, {100 * row['digital_success']:.0f} % "
                "delivered)"] = got > row["digital_psnr"]
    return out
