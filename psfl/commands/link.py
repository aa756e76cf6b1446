"""``psfl link`` — a semantic codec over a channel and an SNR sweep, next to the digital baseline.

The codec is either loaded (``--checkpoint PATH``, a ``.keras`` file written by psfl) or trained
here end to end through the link for ``--steps`` steps (default ``semantic.steps``) on the
``[data]`` training split, with SNRs drawn from ``[phy.snr_db_min, phy.snr_db_max]``. Training
checkpoints go to ``<out>/checkpoints/``; running the command again with the same ``--out``
resumes from there.

The sweep (``semantic.eval_snr_db`` or ``--snr``) runs over ``phy.channel`` with ``phy.csi``
(``--channel``/``--csi`` are shortcuts) on the held-back test split (at most
``semantic.eval_images`` patches, said in the log) and, with ``--images DIR``, on **every** tile of
the photos in that folder (each photo cut into non-overlapping tiles, cropped at the right and
bottom to whole tiles; the folder is read and checked before any training). At each SNR it
reports PSNR/SSIM of the codec and of the digital baseline
(:class:`psfl.phy.digital.DigitalBaseline`: the ``semantic.baseline_codec`` source coder + CRC +
5G LDPC + QAM at the same number of channel uses ``k``, MCS thresholds from the table shipped or
cached for this channel configuration, :mod:`psfl.phy.digital.calibration`) and, on the test set, the
source coders at the capacity of the channel uses (:mod:`psfl.phy.digital.capacity`, a dashed curve). On umi/uma/rma the sweep values are offsets to the link budget: rows give
``snr_offset_db`` and ``snr_db`` = median budget SNR + offset, the SNR the baseline's MCS is
chosen for.

Writes ``link.csv`` (one row per data set and SNR), ``training.csv`` (if trained),
``psnr_vs_snr.png``, ``samples.png`` (originals and receptions at a few SNRs) and
``summary.json``; with ``--images`` also ``images.csv`` (per photo, scheme and SNR: PSNR, SSIM
and MS-SSIM of the stitched reconstruction, share of tiles the baseline delivered), and for each
photo ``photo-<n>.png`` (original beside each scheme at the lowest and highest SNR) and the
full-resolution reconstructions ``photos/<n>-<scheme>-<snr>dB.png``.
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
    if args.snr is not None:
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


def _sweep_axis(phy: Any) -> tuple[str, float]:
    """(x-axis label, dB added to a sweep value to get the SNR) for ``phy``'s channel.

    On umi/uma/rma the sweep values are offsets to the link budget (see
    :class:`psfl.phy.UplinkLink`); the SNR they give at the median of path loss and shadowing is
    the budget SNR plus the offset, which is also what the baseline's MCS is chosen for.
    """
    from psfl.phy.config import PATHLOSS_CHANNELS

    if phy.channel not in PATHLOSS_CHANNELS:
        return "SNR [dB]", 0.0
    from psfl.phy.budget import snr_db_from_config

    budget = snr_db_from_config(phy)
    return (f"offset to the link budget [dB] (median budget SNR {budget:.1f} dB at "
            f"{phy.distance_m:g} m)", budget)


def _baseline(config: Config, k: int, run_dir: RunDir, summary: dict[str, Any]) -> Any:
    """The digital baseline as configured, its MCS table recorded in ``summary``; None when
    ``semantic.baseline`` is off."""
    sem, phy = config.semantic, config.phy
    if not sem.baseline:
        return None
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.digital.calibration import thresholds_for

    thresholds = thresholds_for(phy, k, calibrate=sem.baseline_calibrate,
                                log=lambda m: run_dir.log(m, echo=True))
    if thresholds is not None:
        summary["baseline_thresholds_db"] = thresholds
    elif phy.channel != "awgn":
        run_dir.log(f"warning: no MCS table for this {phy.channel} configuration; the digital "
                    "baseline uses the AWGN thresholds, optimistic on a fading channel (measure "
                    "them once with --set semantic.baseline_calibrate=true)", echo=True)
    summary["baseline_margin_db"] = sem.baseline_margin_db
    return DigitalBaseline(k, thresholds_db=thresholds, codec=sem.baseline_codec,
                           margin_db=sem.baseline_margin_db)


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _apply_shortcuts(args, config)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from psfl.data import load_images, read_photos
    from psfl.phy import UplinkLink
    from psfl.semantic.costs import cost_row
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
    if checkpoint:
        from psfl.semantic.power import k_from_ratio
        from psfl.semantic.zoo import is_pretrained

        expect = {}
        if is_pretrained(checkpoint):  # a shipped file must match the configuration as set
            expect = {"image_size": config.data.patch_size,
                      "k": sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)}
        codec = load_codec(checkpoint, model=args.model, compile=False, channel=phy.channel,
                           **expect)
        patch = codec.image_size[0]
    else:
        patch = config.data.patch_size
    # the user's photos are read (and every problem with them reported) before any long work
    photos = read_photos(args.images, patch) if args.images else []

    if checkpoint:
        data_cfg = config.data
        if data_cfg.patch_size != patch:
            run_dir.log(f"data.patch_size {data_cfg.patch_size} -> {patch} to match the "
                        "checkpoint", echo=True)
            data_cfg = config.replace("data", patch_size=patch).data
        _, test = load_images(data_cfg, seed=seed)
        summary.update(checkpoint=str(checkpoint), trained_steps=0)
    else:
        train, test = load_images(config.data, seed=seed)
        codec = build_codec(sem.model, image_size=config.data.patch_size, k=sem.k or None,
                            k_over_n=sem.k_over_n)
    # the baseline's MCS table is looked up (or refused) before any training or evaluation
    baseline = _baseline(config, codec.k, run_dir, summary) if not args.no_baseline else None
    if not checkpoint:
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
    if len(eval_sets["test"]) < len(test):
        run_dir.log(f"test: {len(eval_sets['test'])} of {len(test)} held-back patches "
                    "(semantic.eval_images; set it to 0 for all)", echo=True)
    if photos:
        # The whole folder is evaluation data: the codec was not trained on it. Every tile.
        eval_sets["folder"] = np.concatenate([p.tiles() for p in photos])
        summary["images_dir"] = str(args.images)
        summary["photos"] = [{"name": p.name, "tiles": p.num_tiles,
                              "size": [p.image.shape[1], p.image.shape[0]]} for p in photos]
        run_dir.log(f"folder: {len(photos)} photos, {len(eval_sets['folder'])} tiles of "
                    f"{patch}x{patch}, all evaluated", echo=True)

    digital_label = f"{sem.baseline_codec.upper()}+LDPC+QAM"

    from psfl.results import progress
    from psfl.semantic.metrics import image_metrics, mean_metrics

    xlabel, offset_db = _sweep_axis(phy)
    if offset_db:
        summary["sweep"] = "offset to the link budget"
        summary["budget_snr_db"] = round(offset_db, 2)
    snrs = list(sem.eval_snr_db)
    picks = [snrs[0], snrs[-1]]  # the two SNRs whose photos are stitched
    rows: list[dict[str, Any]] = []
    photo_rows: list[dict[str, Any]] = []
    shown: dict[tuple[str, str, float], np.ndarray] = {}
    stitched: dict[tuple[str, float], list[tuple[np.ndarray, float]]] = {}
    n_show = 6
    for name, images in eval_sets.items():
        # one call for the whole sweep: the codec is traced once, not once per SNR
        coded = evaluate_codec(codec, link, images, snrs, jit_compile=sem.xla,
                               return_images=True)
        for snr, res in zip(progress(snrs, desc=f"sweep {name}", unit="SNR"), coded,
                            strict=True):
            row = {"dataset": name, "snr_db": snr + offset_db, "images": len(images),
                   "codec_psnr": res["psnr"], "codec_ssim": res["ssim"]}
            if offset_db:
                row["snr_offset_db"] = snr
            if "ms_ssim" in res:
                row["codec_ms_ssim"] = res["ms_ssim"]
            received = {"codec": res["images"]}
            if baseline is not None and name == "test":
                from psfl.phy.digital.capacity import capacity_reference

                _, cap = capacity_reference(images, codec.k, snr, link)
                row["capacity_psnr"] = float(np.mean(cap["psnr"]))
            if baseline is not None:
                rx, info = baseline.transmit(images, link, snr, mcs_snr_db=snr + offset_db)
                m = mean_metrics(image_metrics(images, rx))
                row.update(digital_psnr=m["psnr"], digital_ssim=m["ssim"],
                           digital_success=float(np.mean(info["success"])))
                if "ms_ssim" in m:
                    row["digital_ms_ssim"] = m["ms_ssim"]
                received["digital"] = rx
            for scheme, rec in received.items():
                shown[(name, scheme, snr)] = rec[:n_show]
            rows.append(row)
            run_dir.log("{dataset} {snr_db:+.1f} dB: codec PSNR {codec_psnr:.2f} dB".format(**row)
                        + (f", digital {row['digital_psnr']:.2f} dB" if baseline else ""))
            if name == "folder":
                success = info["success"] if baseline is not None else None
                photo_rows += _photo_rows(photos, received, snr, offset_db, success, stitched,
                                          keep=snr in picks)
        run_dir.write_csv("link.csv", rows)
    if photo_rows:
        run_dir.write_csv("images.csv", photo_rows)
        _save_photos(run_dir, photos, stitched, picks, offset_db, codec.arch, digital_label)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in eval_sets:
        sel = [r for r in rows if r["dataset"] == name]
        style = "-" if name == "test" else "--"
        ax.plot(snrs, [r["codec_psnr"] for r in sel], "o" + style,
                label=f"{codec.arch} ({name})")
        if baseline is not None:
            ax.plot(snrs, [r["digital_psnr"] for r in sel], "s" + style,
                    label=f"{digital_label} ({name})")
        if "capacity_psnr" in sel[0]:
            ax.plot(snrs, [r["capacity_psnr"] for r in sel], "k--",
                    label=f"source coders at capacity ({name})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR [dB]")
    ax.set_title(f"{phy.channel}, {phy.csi} CSI, k={codec.k} (k/n={codec.k_over_n:.3g})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    run_dir.save_figure(fig, "psnr_vs_snr.png")

    picks_shown = [snrs[0], snrs[len(snrs) // 2], snrs[-1]] if len(snrs) >= 3 else snrs
    picks_shown = list(dict.fromkeys(picks_shown))
    grid_rows, labels = [eval_sets["test"][:n_show]], ["original"]
    for snr in picks_shown:
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
    summary["baseline"] = (f"{sem.baseline_codec}+crc24a+ldpc+qam" if baseline is not None
                           else "skipped")
    return summary


def _photo_rows(photos: list[Any], received: dict[str, np.ndarray], snr: float,
                offset_db: float, success: np.ndarray | None,
                stitched: dict[tuple[str, float], list[tuple[np.ndarray, float]]], keep: bool
                ) -> list[dict[str, Any]]:
    """Per-photo quality of each scheme at one SNR, measured on the stitched reconstruction
    (PSNR from the whole photo's MSE; SSIM and, from 176 px, MS-SSIM on the whole photo);
    the stitched photos and their PSNR are kept in ``stitched`` when ``keep``."""
    from psfl.data import stitch
    from psfl.semantic.metrics import image_metrics

    out = []
    start = 0
    for photo in photos:
        end = start + photo.num_tiles
        for scheme, rec in received.items():
            img = np.clip(stitch(rec[start:end], photo.grid), 0.0, 1.0)
            m = image_metrics(photo.image[None], img[None])
            row = {"photo": photo.name, "tiles": photo.num_tiles, "snr_db": snr + offset_db,
                   "scheme": scheme, **{k: float(v[0]) for k, v in m.items()}}
            if scheme == "digital" and success is not None:
                row["delivered"] = float(np.mean(success[start:end]))
            out.append(row)
            if keep:
                stitched.setdefault((scheme, snr), []).append((img, row["psnr"]))
        start = end
    return out


def _save_photos(run_dir: RunDir, photos: list[Any], stitched: dict[tuple[str, float], list],
                 picks: list[float], offset_db: float, arch: str, digital_label: str) -> None:
    """For each photo: full-resolution reconstructions ``photos/<n>-<scheme>-<snr>dB.png`` and
    one overview figure ``photo-<n>.png`` (original beside each scheme at both SNRs)."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from psfl.results import atomic_write_bytes

    folder = run_dir.file("photos")
    folder.mkdir(exist_ok=True)
    schemes = list(dict.fromkeys(s for s, _ in stitched))
    names = {"codec": arch, "digital": digital_label}
    for i, photo in enumerate(photos, start=1):
        # one row per scheme, the original in the first column of the first row
        picked = list(dict.fromkeys(picks))
        h, w = photo.image.shape[:2]
        fig, axes = plt.subplots(len(schemes), 1 + len(picked), squeeze=False,
                                 figsize=(3.6 * (1 + len(picked)),
                                          3.6 * len(schemes) * h / w + 0.5 * len(schemes)))
        for ax in axes.flat:
            ax.axis("off")
        axes[0, 0].imshow(photo.image, interpolation="antialiased")
        axes[0, 0].set_title(f"original ({w}x{h}, {photo.num_tiles} tiles)", fontsize=8)
        for r, scheme in enumerate(schemes):
            for c, snr in enumerate(picked, start=1):
                img, psnr = stitched[(scheme, snr)][i - 1]
                buf = io.BytesIO()
                Image.fromarray(np.round(img * 255).astype(np.uint8)).save(buf, format="PNG")
                atomic_write_bytes(folder / f"{i}-{scheme}-{snr + offset_db:g}dB.png",
                                   buf.getvalue())
                axes[r, c].imshow(img, interpolation="antialiased")
                axes[r, c].set_title(f"{names[scheme]}, {snr + offset_db:g} dB: PSNR "
                                     f"{psnr:.1f} dB", fontsize=8)
        fig.suptitle(photo.name, fontsize=9)
        run_dir.save_figure(fig, f"photo-{i}.png")
