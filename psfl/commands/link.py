"""``psfl link`` — a semantic codec over a channel and an SNR sweep, next to the digital baseline.

The codec is loaded (``--checkpoint``: a ``.keras`` file or ``pretrained:NAME``; neither it
nor ``--steps``: the shipped codec for the model and channel) or trained here through the link
for ``--steps`` steps (:mod:`psfl.semantic.resolve`; checkpoints in ``<out>/checkpoints/``).

The sweep (``semantic.eval_snr_db`` or ``--snr``, over ``phy.channel`` with ``phy.csi``;
:func:`psfl.semantic.evaluate.sweep`) sends the held-back test patches (at most
``semantic.eval_images``; beside whole photos only with ``--patches``) and, with ``--images
DIR``, every photo of that folder (checked before any training) as one message each
(:mod:`psfl.semantic.photos`; ``--tiles``: each 32×32 tile alone): the codec, the digital
baseline at the same channel uses and the source coders at capacity. On umi/uma/rma the sweep
values are offsets to the link budget (``snr_db`` = median budget SNR + offset).

Writes ``link.csv``, ``training.csv`` (if trained), ``psnr_vs_snr.png``, ``samples.png`` (the
patches), ``summary.json``; with ``--images`` also ``images.csv`` (per photo, scheme and SNR),
``photo-<n>.png`` and ``photos/<n>-<scheme>-<snr>dB.png``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir

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
                        help="also evaluate on the PNG/JPEG photos in DIR, each sent whole")
    parser.add_argument("--tiles", action="store_true", help="with --images: each 32x32 tile alone")
    parser.add_argument("--patches", action="store_true", help="with --images: also the patches")
    parser.add_argument("--no-baseline", action="store_true", help="skip the digital baseline")


def _parse_snr(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values:
        raise ValueError(f"--snr {text!r} is not a comma-separated list of SNRs in dB; e.g. "
                         "--snr 0,5,10,15,20")
    return values


def overrides(args: argparse.Namespace) -> list[str]:
    """The shortcuts as ``--set`` overrides (the CLI applies them with the others)."""
    sets = [f"phy.{key}={json.dumps(getattr(args, key))}" for key in ("channel", "csi")
            if getattr(args, key)]
    if args.snr is not None:
        sets.append(f"semantic.eval_snr_db={json.dumps(list(_parse_snr(args.snr)))}")
    if args.steps is not None:
        if args.steps < 0:
            raise ValueError(f"--steps {args.steps} is negative; give a number of training steps")
        sets.append(f"semantic.steps={args.steps}")
    if args.model and not args.checkpoint:
        sets.append(f"semantic.model={json.dumps(args.model)}")
    return sets


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")

    from psfl.data import read_photos
    from psfl.phy import UplinkLink
    from psfl.semantic.costs import cost_row
    from psfl.semantic.evaluate import digital_baseline
    from psfl.semantic.resolve import codec_source, shipped_default

    sem, phy = config.semantic, config.phy
    run_dir.write_config(config)
    link, summary = UplinkLink(phy), {"channel": phy.channel, "csi": phy.csi}
    checkpoint = args.checkpoint
    if checkpoint is None and args.steps is None:
        checkpoint = shipped_default(args.model or sem.model, config)
        run_dir.log(f"no --checkpoint or --steps: using the shipped {checkpoint} "
                    "(train a fresh codec with --steps N)", echo=True)
    source = codec_source(config, run_dir, checkpoint=checkpoint, require=args.model,
                          channel=phy.channel)
    # the user's photos and the baseline's MCS table are checked before any long work
    photos = read_photos(args.images, source.codec.image_size[0]) if args.images else []
    baseline = None
    if sem.baseline and not args.no_baseline:
        baseline = digital_baseline(phy, sem, source.codec.k,
                                    log=lambda m: run_dir.log(m, echo=True))
        if baseline.thresholds_db is not None:
            summary["baseline_thresholds_db"] = baseline.thresholds_db
        summary["baseline_margin_db"] = sem.baseline_margin_db
    if checkpoint:
        summary.update(checkpoint=str(checkpoint), trained_steps=0)
    else:
        summary.update(source.train(link, config, run_dir, steps=sem.steps,
                                    snr_db_range=(phy.snr_db_min, phy.snr_db_max),
                                    what=f" over {phy.channel} ({phy.csi} CSI)"))
    codec = source.codec
    summary.update(model=codec.arch, image_size=list(codec.image_size), k=codec.k,
                   k_over_n=codec.k_over_n, cost=cost_row(codec))
    sets = _eval_sets(source.test, photos, args, sem.eval_images, run_dir, summary)
    summary["results"] = _sweep_and_draw(codec, link, baseline, sets, photos, config, run_dir,
                                         summary)
    summary["baseline"] = f"{sem.baseline_codec}+crc24a+ldpc+qam" if baseline else "skipped"
    return summary


def _eval_sets(test: Any, photos: list[Any], args: argparse.Namespace, eval_images: int,
               run_dir: RunDir, summary: dict[str, Any]) -> dict[str, np.ndarray]:
    """``test`` (≤ ``eval_images`` held-back patches, 0: all; beside whole photos only with
    ``--patches``) and, with ``--tiles``, ``folder`` (every tile); photos noted in ``summary``."""
    sets = {"test": test.images[:eval_images] if eval_images else test.images}
    if photos and not (args.tiles or args.patches):
        sets.clear()
    elif len(sets["test"]) < len(test):
        run_dir.log(f"test: {len(sets['test'])} of {len(test)} held-back patches "
                    "(semantic.eval_images; set it to 0 for all)", echo=True)
    if photos:  # the whole folder is evaluation data: never trained on
        sent = summary["photos_sent"] = "tile by tile" if args.tiles else "whole"
        summary.update(images_dir=str(args.images), photos=[{"name": p.name, "tiles": p.num_tiles,
                       "size": [p.image.shape[1], p.image.shape[0]]} for p in photos])
        run_dir.log(f"folder: {len(photos)} photos ({sum(p.num_tiles for p in photos)} tiles), "
                    f"all evaluated, {sent}", echo=True)
        if args.tiles:
            sets["folder"] = np.concatenate([p.tiles() for p in photos])
    return sets


def _sweep_and_draw(codec: Any, link: Any, baseline: Any, sets: dict[str, np.ndarray],
                    photos: list[Any], config: Config, run_dir: RunDir,
                    summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The sweep (link.csv written after each data set, images.csv with photos) and its
    figures; the rows."""
    from psfl.plotting import channel_name
    from psfl.semantic import figures
    from psfl.semantic.evaluate import Point, sweep, sweep_axis
    from psfl.semantic.photos import TiledPhotos, evaluate_photos

    phy, snrs = config.phy, list(config.semantic.eval_snr_db)
    xlabel, offset_db = sweep_axis(phy)
    if offset_db:
        summary.update(sweep="offset to the link budget", budget_snr_db=round(offset_db, 2))
    tiled = TiledPhotos(photos, [snrs[0], snrs[-1]]) if "folder" in sets else None
    shown, failed = {}, {}  # the test patches drawn in samples.png, and the baseline's losses

    def on_point(p: Point) -> None:
        run_dir.log(f"{p.dataset} {p.row['snr_db']:+.1f} dB: codec PSNR "
                    f"{p.row['codec_psnr']:.2f} dB" + (f", digital {p.row['digital_psnr']:.2f} "
                                                       "dB" if baseline else ""))
        if p.dataset == "test":
            shown.update({(s, p.snr): rec[:figures.N_SHOW] for s, rec in p.received.items()})
            if p.delivered is not None:
                failed[p.snr] = p.delivered[:figures.N_SHOW]
        elif tiled is not None:
            tiled.on_point(p)

    rows = sweep({"codec": codec}, link, sets, snrs,
                 baseline=None if baseline is None else baseline.scheme, offset_db=offset_db,
                 capacity_sets=("test",), images_for=list(sets), jit_compile=config.semantic.xla,
                 on_point=on_point, on_set=lambda r: run_dir.write_csv("link.csv", r))
    labels = {"codec": codec.arch} | ({"digital": baseline.label} if baseline else {})
    if tiled is not None:
        tiled.write(run_dir, labels, offset_db)
    elif photos:  # each photo sent whole
        rows += evaluate_photos(codec, link, photos, snrs, run_dir, labels=labels,
                                baseline=baseline, decoder=config.semantic.photo_decoder,
                                offset_db=offset_db)
        run_dir.write_csv("link.csv", rows)
    title = f"{channel_name(phy.channel)}, {channel_name(phy.csi)} CSI"
    figures.psnr_vs_snr(
        run_dir, rows, snrs, codecs={"codec": codec.arch},
        datasets=list(dict.fromkeys(r["dataset"] for r in rows)),
        baseline=labels.get("digital"), xlabel=xlabel,
        title=f"{title}, k = {codec.k} channel uses per image (k/n = {codec.k_over_n:.3g})",
        caption=figures.link_caption(summary, rows, sets | ({"whole-photo": photos}
                                                            if photos and tiled is None else {}),
                                     config))
    if "test" in sets:
        figures.samples(run_dir, sets["test"], shown, failed, snrs, labels=labels,
                        title=f"{title} (held-back test patches)")
    return rows
