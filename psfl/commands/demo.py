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
import dataclasses
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir, mosaic, progress

HELP = "Run the main job on the embedded data and write a results table, CSVs and plots."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smallest settings (a smoke run in well under a minute)")


def stage_data(config: Config, run: RunDir) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")

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

    from psfl.plotting import caption, integer_ticks, subplots

    fig, axes = subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 1.3]})
    sample = test.images[np.linspace(0, len(test) - 1, 32).astype(int)]
    grid = mosaic([sample[i:i + 8] for i in range(0, 32, 8)])
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
    axes[1].set_title(f"{config.data.partition} split, α = {config.data.alpha}: "
                      f"mean TV distance {stats['mean_tv']:.2f}")
    integer_ticks(axes[1], "x")
    axes[1].legend(fontsize=7, ncol=2)
    caption(fig, f"{len(train)} training patches of {config.data.patch_size}×"
            f"{config.data.patch_size} px split over {len(parts)} MUs; test patches come from "
            "held-back regions of each photo, never in the training data (psfl.data)")
    run.save_figure(fig, "data.png")
    return {"train_images": len(train), "test_images": len(test), "partition": stats}


def stage_link(config: Config, run: RunDir, mentor_mu: int) -> list[dict[str, Any]]:
    """The global student and one mentor over an SNR sweep, with the digital baseline."""
    from psfl.data import load_images
    from psfl.federation.checkpoint import RunLayout
    from psfl.federation.models import build_student, initial_weights
    from psfl.phy import UplinkLink
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.digital.calibration import thresholds_for
    from psfl.plotting import channel_name
    from psfl.semantic import build_codec
    from psfl.semantic.metrics import image_metrics, mean_metrics
    from psfl.semantic.train import evaluate_codec

    fed = config.federation
    _, test = load_images(config.data, seed=config.run.seed)
    images = test.cap(fed.eval_images, config.run.seed + 2).images
    link = UplinkLink(dataclasses.replace(config.phy, channel=fed.small_scale))
    student = build_student(config)
    layout = RunLayout(run.path)
    student.set_weights(layout.global_weights())
    codecs = {"global student (csc)": student}
    if fed.init == "pretrained":
        start = build_student(config)
        start.set_weights(initial_weights(config))
        codecs["pretrained student it started from"] = start
    mentor_file = layout.mu(mentor_mu).latest("mentor")
    if mentor_file is not None:
        rows = layout.load()[1]["mu_rows"]
        name = next(r["mentor"] for r in rows if r["mu"] == mentor_mu and r.get("mentor"))
        mentor = build_codec(name, config.data.patch_size, k=student.k)
        mentor.load_weights(mentor_file)
        codecs[f"MU {mentor_mu} mentor ({name})"] = mentor
    sem = config.semantic
    thresholds = thresholds_for(link.cfg, student.k, calibrate=sem.baseline_calibrate,
                                log=lambda m: run.log(m, echo=True))
    if thresholds is None and fed.small_scale != "awgn":
        run.log(f"warning: no MCS table for this {fed.small_scale} configuration; the digital "
                "baseline uses the AWGN thresholds (--set semantic.baseline_calibrate=true "
                "measures them once)", echo=True)
    baseline = DigitalBaseline(student.k, thresholds_db=thresholds, codec=sem.baseline_codec,
                               margin_db=sem.baseline_margin_db)
    snrs = list(config.semantic.eval_snr_db)
    out = []
    for snr in progress(snrs, desc="link sweep", unit="SNR"):
        row: dict[str, Any] = {"snr_db": snr}
        for label, codec in codecs.items():
            row[f"{label} psnr"] = evaluate_codec(codec, link, images, [snr])[0]["psnr"]
        rx, info = baseline.transmit(images, link, snr)
        row["digital psnr"] = mean_metrics(image_metrics(images, rx))["psnr"]
        row["digital success"] = float(np.mean(info["success"]))
        out.append(row)
    run.write_csv("link.csv", out)
    digital = (f"{sem.baseline_codec.upper()} + LDPC + QAM ("
               + ("AWGN MCS table" if thresholds is None else
                  f"MCS thresholds measured over {channel_name(fed.small_scale)}") + ")")
    _plot_link(out, snrs, [*codecs], digital, config, student.k, len(images), run)
    return out


def _plot_link(rows: list[dict[str, Any]], snrs: list[float], codecs: list[str], digital: str,
               config: Config, k: int, n_images: int, run: RunDir) -> None:
    """link_psnr_vs_snr.png/.pdf: each codec and the baseline against SNR, the baseline's points
    with lost images crossed and their delivered share written."""
    from psfl.plotting import caption, channel_name, color, count, mark_delivery, subplots

    fed = config.federation
    fig, ax = subplots(figsize=(6.4, 4.2))
    for label in codecs:
        ax.plot(snrs, [r[f"{label} psnr"] for r in rows], marker="o", color=color(label),
                label=label)
    ax.plot(snrs, [r["digital psnr"] for r in rows], marker="s", color=color("digital"),
            label=digital)
    mark_delivery(ax, snrs, [r["digital psnr"] for r in rows],
                  [r["digital success"] for r in rows], every=True)
    ax.set_xlabel(f"SNR [dB] ({channel_name(fed.small_scale)}, "
                  f"{channel_name(config.phy.csi)} CSI); % = digital images delivered")
    ax.set_ylabel("PSNR [dB]")
    ax.margins(y=0.1)  # room for the delivery labels under the digital points
    ax.set_title(f"k = {k} channel uses per {config.data.patch_size}×{config.data.patch_size} "
                 "image")
    ax.legend()
    caption(fig, [f"after {count(fed.rounds, 'round')} × {fed.local_steps} local steps, "
                  f"{config.data.num_mus} MUs", f"{n_images} held-back test patches"])
    run.save_figure(fig, "link_psnr_vs_snr.png")


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
    order = ("gsc-s", "gsc-m", "gsc-l")  # show the MU with the largest mentor
    mentor_mu = int(max(mentors, key=lambda mu: order.index(mentors[mu]))) if mentors else 0
    summary["link"] = stage_link(config, run_dir, mentor_mu)
    summary["checks"] = demo_checks(fed, summary["link"])
    summary["energy"] = energy.run(
        argparse.Namespace(distances="10:600:12" if args.quick else "10:600:30"), config, run_dir)
    _print_table(summary)
    return summary


def _print_table(summary: dict[str, Any]) -> None:
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
        codec = [(k, v) for k, v in row.items() if k.endswith(" psnr") and k != "digital psnr"]
        text = ", ".join(f"{k[:-5]} {v:.1f}" for k, v in codec)
        lines.append(f"link @ {row['snr_db']:>4.0f} dB: {text}, digital {row['digital psnr']:.1f}")
    lines.append(f"AGP downlink energy saved (median budget, 10-600 m): "
                 f"{100 * summary['energy']['mean_downlink_energy_saved']:.1f} %")
    lines.append("")
    lines += [f"{'yes' if ok else 'NO ':<4} {text}" for text, ok in summary["checks"].items()]
    print("\n".join(lines))


def demo_checks(fed: dict[str, Any], link: list[dict[str, Any]]) -> dict[str, bool]:
    """What the main job should show, each measured (printed as yes/NO, kept in summary.json)."""
    glob = fed["final_global_psnr"] or float("nan")
    student = [r["global student (csc) psnr"] for r in link]
    start = [r.get("pretrained student it started from psnr") for r in link]
    out = {
        f"global student >= 24 dB at the MUs ({glob:.2f} dB)": glob >= 24.0,
        "global student's link curve rises with SNR (0 dB < 10 dB < 20 dB, nearest points)":
            student[0] < student[len(student) // 2] < student[-1],
        f"personalized >= global at the MUs ({fed['personal_psnr_last_round']:.2f} vs "
        f"{glob:.2f} dB)": fed["personal_psnr_last_round"] >= glob,
    }
    if start[0] is not None:
        gain = float(np.mean(student) - np.mean(start))
        out[f"global student above the pretrained one it started from ({gain:+.2f} dB, mean "
            "over the sweep)"] = gain > 0
    for row in link:
        if row["snr_db"] in (0.0, 5.0):
            got = row["global student (csc) psnr"]
            out[f"global student beats the digital baseline at {row['snr_db']:g} dB ({got:.2f} "
                f"vs {row['digital psnr']:.2f} dB, {100 * row['digital success']:.0f} % "
                "delivered)"] = got > row["digital psnr"]
    return out
