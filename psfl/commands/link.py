"""``psfl link`` — a semantic codec over a channel and an SNR sweep, next to the digital baseline.

The codec is either loaded (``--checkpoint PATH``, a ``.keras`` file written by psfl) or trained
here end to end through the link for ``--steps`` steps (default ``semantic.steps``) on the
``[data]`` training split, with SNRs drawn from ``[phy.snr_db_min, phy.snr_db_max]``. Training
checkpoints go to ``<out>/checkpoints/``; running the command again with the same ``--out``
resumes from there.

The sweep (``semantic.eval_snr_db`` or ``--snr``) runs over ``phy.channel`` with ``phy.csi``
(``--channel``/``--csi`` are shortcuts) on the held-back test split and, with ``--images DIR``,
also on every tile of the images in that folder. At each SNR it reports PSNR/SSIM of the codec
and of the digital baseline (:class:`psfl.phy.digital.DigitalBaseline`: JPEG + CRC + 5G LDPC +
QAM) at the same number of channel uses ``k``.

Writes ``link.csv`` (one row per data set and SNR), ``training.csv`` (if trained),
``psnr_vs_snr.png``, ``samples.png`` (originals and receptions at a few SNRs) and
``summary.json``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir, mosaic

HELP = ("Evaluate (or train, then evaluate) a semantic codec over a channel and SNR sweep, with "
        "the digital baseline at the same channel uses.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="trained codec (.keras) or a shipped one, pretrained:NAME (e.g. "
                             "pretrained:gsc-m); without it and without --steps the shipped "
                             "pretrained:<semantic.model> is used")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="train a fresh codec for N steps instead of loading one")
    parser.add_argument("--model", help="codec preset (csc, gsc-s, gsc-m, gsc-l); with "
                                        "--checkpoint, the checkpoint must hold this preset")
    parser.add_argument("--channel", help="shortcut for --set phy.channel=NAME")
    parser.add_argument("--csi", help="shortcut for --set phy.csi=perfect|ls")
    parser.add_argument("--snr", metavar="LIST",
                        help="comma-separated SNRs in dB (default semantic.eval_snr_db)")
    parser.add_argument("--images", metavar="DIR",
                        help="also evaluate on every tile of the PNG/JPEG images in DIR")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the digital baseline (it is the slow part)")


def _parse_snr(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--snr {text!r} is not a comma-separated list of numbers; e.g. "
                         "--snr 0,5,10,15,20") from None
    if not values:
        raise ValueError("--snr is empty; give SNRs in dB, e.g. --snr 0,5,10")
    return values


def _apply_shortcuts(args: argparse.Namespace, config: Config) -> Config:
    phy = {}
    if args.channel:
        phy["channel"] = args.channel
    if args.csi:
        phy["csi"] = args.csi
    if phy:
        config = config.replace("phy", **phy)
    sem: dict[str, Any] = {}
    if args.snr:
        sem["eval_snr_db"] = list(_parse_snr(args.snr))
    if args.steps is not None:
        if args.steps < 0:
            raise ValueError(f"--steps {args.steps} is negative; give a number of training steps")
        sem["steps"] = args.steps
    if args.model and not args.checkpoint:
        sem["model"] = args.model
    if sem:
        config = config.replace("semantic", **sem)
    return config


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _apply_shortcuts(args, config)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from psfl.data import load_folder, load_images
    from psfl.phy import UplinkLink
    from psfl.semantic.costs import cost_row
    from psfl.semantic.metrics import image_metrics, mean_metrics
    from psfl.semantic.models import build_codec, load_codec
    from psfl.semantic.train import evaluate_codec, train_codec

    sem, phy = config.semantic, config.phy
    run_dir.write_config(config)
    link = UplinkLink(phy)
    seed = config.run.seed

    summary: dict[str, Any] = {"channel": phy.channel, "csi": phy.csi}
    checkpoint = args.checkpoint
    if not checkpoint and args.steps is None:
        from psfl.semantic.zoo import PREFIX, resolve

        checkpoint = PREFIX + resolve(args.model or sem.model, phy.channel)
        run_dir.log(f"no --checkpoint or --steps: using the shipped {checkpoint} "
                    "(train a fresh codec with --steps N)", echo=True)
    if args.images:  # check the folder before any long work
        from pathlib import Path

        if not Path(args.images).is_dir():
            raise ValueError(f"--images {args.images!r} is not a folder; give a folder of "
                             "PNG/JPEG images")
    if checkpoint:
        from psfl.semantic.power import k_from_ratio
        from psfl.semantic.zoo import is_pretrained

        expect = {}
        if is_pretrained(checkpoint):  # a shipped file must match the configuration as set
            expect = {"image_size": config.data.patch_size,
                      "k": sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)}
        codec = load_codec(checkpoint, model=args.model, compile=False, channel=phy.channel,
                           **expect)
        size = codec.image_size
        data_cfg = config.data
        if data_cfg.patch_size != size[0]:
            run_dir.log(f"data.patch_size {data_cfg.patch_size} -> {size[0]} to match the "
                        "checkpoint", echo=True)
            data_cfg = config.replace("data", patch_size=size[0]).data
        _, test = load_images(data_cfg, seed=seed)
        summary.update(checkpoint=str(checkpoint), trained_steps=0)
    else:
        train, test = load_images(config.data, seed=seed)
        codec = build_codec(sem.model, image_size=config.data.patch_size, k=sem.k or None,
                            k_over_n=sem.k_over_n)
        run_dir.log(f"training {codec.describe()} for {sem.steps} steps over {phy.channel} "
                    f"({phy.csi} CSI), SNR {phy.snr_db_min}..{phy.snr_db_max} dB", echo=True)
        result = train_codec(
            codec, link, train.images, steps=sem.steps, batch_size=sem.batch_size,
            learning_rate=sem.learning_rate, lr_schedule=sem.lr_schedule,
            snr_db_range=(phy.snr_db_min, phy.snr_db_max),
            checkpoint_dir=run_dir.file("checkpoints"), checkpoint_every=sem.checkpoint_every,
            jit_compile=sem.xla, seed=seed, test_images=test.images, eval_every=sem.eval_every,
            eval_snr_db=(phy.snr_db_min + phy.snr_db_max) / 2, log=run_dir.log)
        codec = result.codec
        if result.history:
            run_dir.write_csv("training.csv", result.history)
        summary.update(checkpoint=str(run_dir.file("checkpoints") / "codec.keras"),
                       trained_steps=result.end_step, resumed_from_step=result.start_step,
                       train_images_per_s=round(result.images_per_s, 1))
    summary.update(model=codec.arch, image_size=list(codec.image_size), k=codec.k,
                   k_over_n=codec.k_over_n, cost=cost_row(codec))

    eval_sets = {"test": test.images[:sem.eval_images] if sem.eval_images else test.images}
    if args.images:
        ftrain, ftest = load_folder(args.images, patch_size=codec.image_size[0],
                                    mode=config.data.folder_mode)
        # The whole folder is evaluation data: the codec was not trained on it.
        imgs = np.concatenate([s.images for s in (ftrain, ftest) if len(s)])
        eval_sets["folder"] = imgs[:sem.eval_images] if sem.eval_images else imgs
        summary["images_dir"] = str(args.images)

    baseline = None
    if sem.baseline and not args.no_baseline:
        from psfl.phy.digital import DigitalBaseline
        from psfl.semantic.zoo import ZOO_DIR, mcs_thresholds

        thresholds = None
        cached = (ZOO_DIR / f"mcs-{phy.channel}-{phy.csi}-k{codec.k}.json").is_file()
        if sem.baseline_calibrate or cached:
            thresholds = mcs_thresholds(link, phy.channel, codec.k, phy.csi,
                                        log=lambda m: run_dir.log(m, echo=True))
        if thresholds is not None:
            run_dir.log(f"digital baseline: MCS thresholds measured over {phy.channel} "
                        f"({'cached' if cached else 'now'})", echo=True)
            summary["baseline_thresholds_db"] = thresholds
        baseline = DigitalBaseline(codec.k, thresholds_db=thresholds,
                                   margin_db=sem.baseline_margin_db)
        summary["baseline_margin_db"] = sem.baseline_margin_db

    from psfl.results import progress

    snrs = list(sem.eval_snr_db)
    rows: list[dict[str, Any]] = []
    shown = {}
    n_show = 6
    for name, images in eval_sets.items():
        for snr in progress(snrs, desc=f"sweep {name}", unit="SNR"):
            res = evaluate_codec(codec, link, images, [snr], jit_compile=sem.xla,
                                 return_images=True)[0]
            row = {"dataset": name, "snr_db": snr, "images": len(images),
                   "codec_psnr": res["psnr"], "codec_ssim": res["ssim"]}
            if "ms_ssim" in res:
                row["codec_ms_ssim"] = res["ms_ssim"]
            shown[(name, "codec", snr)] = res["images"][:n_show]
            if baseline is not None:
                rx, info = baseline.transmit(images, link, snr)
                m = mean_metrics(image_metrics(images, rx))
                row.update(digital_psnr=m["psnr"], digital_ssim=m["ssim"],
                           digital_success=float(np.mean(info["success"])))
                if "ms_ssim" in m:
                    row["digital_ms_ssim"] = m["ms_ssim"]
                shown[(name, "digital", snr)] = rx[:n_show]
            rows.append(row)
            run_dir.log("{dataset} {snr_db:+.1f} dB: codec PSNR {codec_psnr:.2f} dB".format(**row)
                        + (f", digital {row['digital_psnr']:.2f} dB" if baseline else ""))
        run_dir.write_csv("link.csv", rows)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in eval_sets:
        sel = [r for r in rows if r["dataset"] == name]
        style = "-" if name == "test" else "--"
        ax.plot(snrs, [r["codec_psnr"] for r in sel], "o" + style,
                label=f"{codec.arch} ({name})")
        if baseline is not None:
            ax.plot(snrs, [r["digital_psnr"] for r in sel], "s" + style,
                    label=f"JPEG+LDPC+QAM ({name})")
    ax.set_xlabel("SNR [dB]")
    ax.set_ylabel("PSNR [dB]")
    ax.set_title(f"{phy.channel}, {phy.csi} CSI, k={codec.k} (k/n={codec.k_over_n:.3g})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    run_dir.save_figure(fig, "psnr_vs_snr.png")

    picks = [snrs[0], snrs[len(snrs) // 2], snrs[-1]] if len(snrs) >= 3 else snrs
    picks = list(dict.fromkeys(picks))
    grid_rows, labels = [eval_sets["test"][:n_show]], ["original"]
    for snr in picks:
        grid_rows.append(shown[("test", "codec", snr)])
        labels.append(f"{codec.arch} {snr:g} dB")
        if baseline is not None:
            grid_rows.append(shown[("test", "digital", snr)])
            labels.append(f"digital {snr:g} dB")
    fig, ax = plt.subplots(figsize=(1.2 * n_show + 1.5, 1.2 * len(grid_rows)))
    ax.imshow(np.clip(mosaic(grid_rows), 0, 1), interpolation="nearest")
    h = codec.image_size[0] + 2
    ax.set_yticks([i * h + h / 2 for i in range(len(labels))], labels, fontsize=8)
    ax.set_xticks([])
    ax.set_title(f"{phy.channel}, {phy.csi} CSI (test patches)")
    run_dir.save_figure(fig, "samples.png")

    summary["results"] = rows
    summary["baseline"] = "jpeg+crc24a+ldpc+qam" if baseline is not None else "skipped"
    return summary
