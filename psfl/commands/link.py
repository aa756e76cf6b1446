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
import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir, mosaic

if TYPE_CHECKING:
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.link import LinkFn
    from psfl.semantic.codec import SemanticCodec

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


#: Test patches shown per row of samples.png.
N_SHOW = 6


@dataclasses.dataclass
class _Sweep:
    """What the SNR sweep produced: ``rows`` (link.csv), ``photo_rows`` (images.csv), the first
    :data:`N_SHOW` receptions by (data set, scheme, SNR) for samples.png, and the stitched photos
    by (scheme, SNR) at the two SNRs whose photos are saved."""

    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    photo_rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    shown: dict[tuple[str, str, float], np.ndarray] = dataclasses.field(default_factory=dict)
    failed: dict[tuple[str, float], np.ndarray] = dataclasses.field(default_factory=dict)
    stitched: dict[tuple[str, float], list[tuple[np.ndarray, float, np.ndarray | None]]] = (
        dataclasses.field(default_factory=dict))


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _apply_shortcuts(args, config)
    import matplotlib

    matplotlib.use("Agg")

    from psfl.data import load_images, read_photos
    from psfl.phy import UplinkLink
    from psfl.semantic.costs import cost_row
    from psfl.semantic.models import build_codec

    sem, phy = config.semantic, config.phy
    run_dir.write_config(config)
    link = UplinkLink(phy)

    summary: dict[str, Any] = {"channel": phy.channel, "csi": phy.csi}
    checkpoint = _checkpoint_to_use(args, config, run_dir)
    if checkpoint:
        codec = _load_checkpoint(checkpoint, args, config)
        patch = codec.image_size[0]
    else:
        patch = config.data.patch_size
    # the user's photos are read (and every problem with them reported) before any long work
    photos = read_photos(args.images, patch) if args.images else []

    if checkpoint:
        test = _test_split(config, patch, run_dir)
        summary.update(checkpoint=str(checkpoint), trained_steps=0)
    else:
        train, test = load_images(config.data, seed=config.run.seed)
        codec = build_codec(sem.model, image_size=config.data.patch_size, k=sem.k or None,
                            k_over_n=sem.k_over_n)
    # the baseline's MCS table is looked up (or refused) before any training or evaluation
    baseline = _baseline(config, codec.k, run_dir, summary) if not args.no_baseline else None
    if not checkpoint:
        codec = _train(codec, link, train.images, test.images, config, run_dir, summary)
    summary.update(model=codec.arch, image_size=list(codec.image_size), k=codec.k,
                   k_over_n=codec.k_over_n, cost=cost_row(codec))

    eval_sets = _eval_sets(test, photos, args.images, patch, sem.eval_images, run_dir, summary)
    digital_label = f"{sem.baseline_codec.upper()}+LDPC+QAM"
    xlabel, offset_db = _sweep_axis(phy)
    if offset_db:
        summary["sweep"] = "offset to the link budget"
        summary["budget_snr_db"] = round(offset_db, 2)
    snrs = list(sem.eval_snr_db)
    picks = [snrs[0], snrs[-1]]  # the two SNRs whose photos are stitched
    sweep = _sweep(eval_sets, codec, link, baseline, snrs, offset_db, photos, picks, run_dir,
                   jit_compile=sem.xla)
    if sweep.photo_rows:
        run_dir.write_csv("images.csv", sweep.photo_rows)
        _save_photos(run_dir, photos, sweep.stitched, picks, offset_db, codec.arch,
                     digital_label)
    caption = _caption(summary, sweep.rows, eval_sets, config)
    _plot_psnr(sweep.rows, list(eval_sets), snrs, codec, baseline is not None, digital_label,
               xlabel, caption, phy, run_dir)
    _plot_samples(eval_sets["test"], sweep, snrs, codec, baseline is not None, phy, run_dir)

    summary["results"] = sweep.rows
    summary["baseline"] = (f"{sem.baseline_codec}+crc24a+ldpc+qam" if baseline is not None
                           else "skipped")
    return summary


def _checkpoint_to_use(args: argparse.Namespace, config: Config, run_dir: RunDir) -> str | None:
    """``--checkpoint``; without it and without ``--steps``, the shipped codec for the model and
    channel (said in the log); None when a fresh codec is to be trained."""
    if args.checkpoint or args.steps is not None:
        return args.checkpoint
    from psfl.semantic.zoo import PREFIX, resolve

    checkpoint = PREFIX + resolve(args.model or config.semantic.model, config.phy.channel)
    run_dir.log(f"no --checkpoint or --steps: using the shipped {checkpoint} "
                "(train a fresh codec with --steps N)", echo=True)
    return checkpoint


def _load_checkpoint(checkpoint: str, args: argparse.Namespace, config: Config
                     ) -> SemanticCodec:
    """The codec in ``checkpoint``; a shipped one must match the configuration as set (patch
    size and ``k``), a file of the user's only ``--model`` when given."""
    from psfl.semantic.models import load_codec
    from psfl.semantic.power import k_from_ratio
    from psfl.semantic.zoo import is_pretrained

    sem = config.semantic
    expect = {}
    if is_pretrained(checkpoint):  # a shipped file must match the configuration as set
        expect = {"image_size": config.data.patch_size,
                  "k": sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)}
    return load_codec(checkpoint, model=args.model, compile=False, channel=config.phy.channel,
                      **expect)


def _test_split(config: Config, patch: int, run_dir: RunDir) -> Any:
    """The held-back test split in patches of ``patch`` pixels, the checkpoint's size
    (``data.patch_size`` follows it, said in the log)."""
    from psfl.data import load_images

    data_cfg = config.data
    if data_cfg.patch_size != patch:
        run_dir.log(f"data.patch_size {data_cfg.patch_size} -> {patch} to match the "
                    "checkpoint", echo=True)
        data_cfg = config.replace("data", patch_size=patch).data
    _, test = load_images(data_cfg, seed=config.run.seed)
    return test


def _train(codec: SemanticCodec, link: LinkFn, train_images: np.ndarray, test_images: np.ndarray,
           config: Config, run_dir: RunDir, summary: dict[str, Any]) -> SemanticCodec:
    """Train ``codec`` through ``link`` as configured (checkpoints in ``<out>/checkpoints/``,
    resumed from there), write ``training.csv`` and record the run in ``summary``; the trained
    codec."""
    from psfl.semantic.train import train_codec

    sem, phy, seed = config.semantic, config.phy, config.run.seed
    run_dir.log(f"training {codec.describe()} for {sem.steps} steps over {phy.channel} "
                f"({phy.csi} CSI), SNR {phy.snr_db_min}..{phy.snr_db_max} dB", echo=True)
    result = train_codec(
        codec, link, train_images, steps=sem.steps, batch_size=sem.batch_size,
        learning_rate=sem.learning_rate, lr_schedule=sem.lr_schedule,
        snr_db_range=(phy.snr_db_min, phy.snr_db_max),
        checkpoint_dir=run_dir.file("checkpoints"), checkpoint_every=sem.checkpoint_every,
        jit_compile=sem.xla, seed=seed, test_images=test_images, eval_every=sem.eval_every,
        eval_snr_db=(phy.snr_db_min + phy.snr_db_max) / 2, log=run_dir.log)
    if result.history:
        run_dir.write_csv("training.csv", result.history)
    summary.update(checkpoint=str(run_dir.file("checkpoints") / "codec.keras"),
                   trained_steps=result.end_step, resumed_from_step=result.start_step,
                   train_images_per_s=round(result.images_per_s, 1))
    return result.codec


def _eval_sets(test: Any, photos: list[Any], images_dir: str | None, patch: int,
               eval_images: int, run_dir: RunDir, summary: dict[str, Any]
               ) -> dict[str, np.ndarray]:
    """The sweep's data sets: ``test`` (at most ``eval_images`` held-back patches, 0: all) and,
    with photos, ``folder`` (every tile of every photo, recorded in ``summary``)."""
    eval_sets = {"test": test.images[:eval_images] if eval_images else test.images}
    if len(eval_sets["test"]) < len(test):
        run_dir.log(f"test: {len(eval_sets['test'])} of {len(test)} held-back patches "
                    "(semantic.eval_images; set it to 0 for all)", echo=True)
    if photos:
        # The whole folder is evaluation data: the codec was not trained on it. Every tile.
        eval_sets["folder"] = np.concatenate([p.tiles() for p in photos])
        summary["images_dir"] = str(images_dir)
        summary["photos"] = [{"name": p.name, "tiles": p.num_tiles,
                              "size": [p.image.shape[1], p.image.shape[0]]} for p in photos]
        run_dir.log(f"folder: {len(photos)} photos, {len(eval_sets['folder'])} tiles of "
                    f"{patch}x{patch}, all evaluated", echo=True)
    return eval_sets


def _sweep(eval_sets: dict[str, np.ndarray], codec: SemanticCodec, link: LinkFn,
           baseline: DigitalBaseline | None, snrs: list[float], offset_db: float,
           photos: list[Any], picks: list[float], run_dir: RunDir, *, jit_compile: bool
           ) -> _Sweep:
    """Every data set at every SNR through the codec and (unless None) the baseline, link.csv
    written after each data set; the folder's photos measured whole and, at ``picks``, kept."""
    from psfl.results import progress
    from psfl.semantic.train import evaluate_codec

    out = _Sweep()
    for name, images in eval_sets.items():
        # one call for the whole sweep: the codec is traced once, not once per SNR
        coded = evaluate_codec(codec, link, images, snrs, jit_compile=jit_compile,
                               return_images=True)
        for snr, res in zip(progress(snrs, desc=f"sweep {name}", unit="SNR"), coded,
                            strict=True):
            row, received, success = _sweep_point(name, images, snr, res, offset_db, codec.k,
                                                  link, baseline)
            for scheme, rec in received.items():
                out.shown[(name, scheme, snr)] = rec[:N_SHOW]
            if success is not None:
                out.failed[(name, snr)] = ~np.asarray(success[:N_SHOW], bool)
            out.rows.append(row)
            run_dir.log("{dataset} {snr_db:+.1f} dB: codec PSNR {codec_psnr:.2f} dB".format(**row)
                        + (f", digital {row['digital_psnr']:.2f} dB" if baseline else ""))
            if name == "folder":
                out.photo_rows += _photo_rows(photos, received, snr, offset_db, success,
                                              out.stitched, keep=snr in picks)
        run_dir.write_csv("link.csv", out.rows)
    return out


def _sweep_point(name: str, images: np.ndarray, snr: float, res: dict[str, Any],
                 offset_db: float, k: int, link: LinkFn, baseline: DigitalBaseline | None
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray], np.ndarray | None]:
    """One row of link.csv: the codec's result ``res`` at sweep value ``snr`` and, with the
    baseline, the capacity reference (test set only) and the baseline over the same images.
    Also the receptions by scheme and which images the baseline delivered (None without it)."""
    from psfl.semantic.metrics import image_metrics, mean_metrics

    row = {"dataset": name, "snr_db": snr + offset_db, "images": len(images),
           "codec_psnr": res["psnr"], "codec_ssim": res["ssim"]}
    if offset_db:
        row["snr_offset_db"] = snr
    if "ms_ssim" in res:
        row["codec_ms_ssim"] = res["ms_ssim"]
    received = {"codec": res["images"]}
    if baseline is None:
        return row, received, None
    if name == "test":
        from psfl.phy.digital.capacity import capacity_reference

        _, cap = capacity_reference(images, k, snr, link)
        row["capacity_psnr"] = float(np.mean(cap["psnr"]))
    rx, info = baseline.transmit(images, link, snr, mcs_snr_db=snr + offset_db)
    m = mean_metrics(image_metrics(images, rx))
    row.update(digital_psnr=m["psnr"], digital_ssim=m["ssim"],
               digital_success=float(np.mean(info["success"])))
    if "ms_ssim" in m:
        row["digital_ms_ssim"] = m["ms_ssim"]
    received["digital"] = rx
    return row, received, info["success"]


def _caption(summary: dict[str, Any], rows: list[dict[str, Any]],
             eval_sets: dict[str, np.ndarray], config: Config) -> list[str]:
    """The caption of psnr_vs_snr: the codec's training budget, what was evaluated and the
    share of images the baseline delivered."""
    from psfl.semantic.zoo import PREFIX, provenance, resolve

    sem, ckpt = config.semantic, str(summary.get("checkpoint", ""))
    if summary.get("trained_steps"):
        budget = (f"trained here: {summary['trained_steps']} steps × batch {sem.batch_size}, "
                  f"SNR {config.phy.snr_db_min:g}–{config.phy.snr_db_max:g} dB")
    elif ckpt.startswith(PREFIX):
        prov = provenance(resolve(ckpt, config.phy.channel))
        budget = (f"shipped {ckpt}: {prov['steps']} steps × batch {prov['batch_size']} on "
                  f"{prov['public_patches']} public patches")
    else:
        budget = f"checkpoint {ckpt.rsplit('/', 1)[-1]}"
    sets = ", ".join(f"{len(v)} {k} images" for k, v in eval_sets.items())
    parts = [budget, f"evaluated on {sets}"]
    delivered = [r["digital_success"] for r in rows if "digital_success" in r]
    if delivered:
        parts.append(f"digital baseline delivered {100 * np.mean(delivered):.1f} % of images "
                     f"(min {100 * min(delivered):.0f} %)")
    return parts


def _plot_psnr(rows: list[dict[str, Any]], names: list[str], snrs: list[float],
               codec: SemanticCodec, with_baseline: bool, digital_label: str, xlabel: str,
               caption: list[str], phy: Any, run_dir: RunDir) -> None:
    """psnr_vs_snr.png/.pdf: PSNR against the sweep of the codec, the baseline and the source
    coders at capacity; one colour per scheme, one line style per data set, the baseline's
    points with failed decodes crossed and their delivered share written beside them."""
    from psfl.plotting import caption as put_caption
    from psfl.plotting import channel_name, color, linestyle, mark_delivery, subplots

    fig, ax = subplots(figsize=(6.4, 4.2))
    failed_shown = False
    for name in names:
        sel = [r for r in rows if r["dataset"] == name]
        ls = linestyle(name)
        ax.plot(snrs, [r["codec_psnr"] for r in sel], marker="o", ls=ls, color=color("codec"),
                label=f"{codec.arch} ({name})")
        if with_baseline:
            y = [r["digital_psnr"] for r in sel]
            ax.plot(snrs, y, marker="s", ls=ls, color=color("digital"),
                    label=f"{digital_label} ({name})")
            failed_shown |= mark_delivery(ax, snrs, y, [r["digital_success"] for r in sel],
                                          legend=not failed_shown)
        if "capacity_psnr" in sel[0]:
            ax.plot(snrs, [r["capacity_psnr"] for r in sel], ls=":", color=color("capacity"),
                    label=f"source coders at capacity ({name})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR [dB]")
    ax.margins(y=0.08)
    ax.set_title(f"{channel_name(phy.channel)}, {channel_name(phy.csi)} CSI, k = {codec.k} "
                 f"channel uses per image (k/n = {codec.k_over_n:.3g})")
    ax.legend()
    put_caption(fig, caption)
    run_dir.save_figure(fig, "psnr_vs_snr.png")


def _plot_samples(test_images: np.ndarray, sweep: _Sweep, snrs: list[float],
                  codec: SemanticCodec, with_baseline: bool, phy: Any, run_dir: RunDir) -> None:
    """samples.png/.pdf: the first test patches, then their receptions by the codec (and the
    baseline, failed decodes crossed out) at the lowest, middle and highest SNR of the sweep."""
    from psfl.plotting import caption, channel_name, mark_failed_tiles, subplots

    picks_shown = [snrs[0], snrs[len(snrs) // 2], snrs[-1]] if len(snrs) >= 3 else snrs
    picks_shown = list(dict.fromkeys(picks_shown))
    grid_rows, labels, failed_rows = [test_images[:N_SHOW]], ["original"], []
    for snr in picks_shown:
        grid_rows.append(sweep.shown[("test", "codec", snr)])
        labels.append(f"{codec.arch} {snr:g} dB")
        if with_baseline:
            failed_rows.append((len(grid_rows), sweep.failed[("test", snr)]))
            grid_rows.append(sweep.shown[("test", "digital", snr)])
            labels.append(f"digital {snr:g} dB")
    fig, ax = subplots(figsize=(1.2 * N_SHOW + 1.5, 1.2 * len(grid_rows)))
    ax.grid(False)
    ax.imshow(np.clip(mosaic(grid_rows), 0, 1), interpolation="nearest")
    h = codec.image_size[0]
    crossed = sum(mark_failed_tiles(ax, failed, tile=h, row=r) for r, failed in failed_rows)
    ax.set_yticks([i * (h + 2) + h / 2 for i in range(len(labels))], labels)
    ax.set_xticks([])
    ax.set_title(f"{channel_name(phy.channel)}, {channel_name(phy.csi)} CSI (held-back test "
                 "patches)")
    if with_baseline:
        caption(fig, f"crossed out: the digital baseline's CRC failed ({crossed} of the tiles "
                "shown); the receiver then shows its fallback tile")
    run_dir.save_figure(fig, "samples.png")


def _photo_rows(photos: list[Any], received: dict[str, np.ndarray], snr: float,
                offset_db: float, success: np.ndarray | None,
                stitched: dict[tuple[str, float], list[tuple[np.ndarray, float,
                                                             np.ndarray | None]]], keep: bool
                ) -> list[dict[str, Any]]:
    """Per-photo quality of each scheme at one SNR, measured on the stitched reconstruction
    (PSNR from the whole photo's MSE; SSIM and, from 176 px, MS-SSIM on the whole photo);
    the stitched photos, their PSNR and (digital) which tiles failed are kept in ``stitched``
    when ``keep``."""
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
            failed = None
            if scheme == "digital" and success is not None:
                row["delivered"] = float(np.mean(success[start:end]))
                failed = ~np.asarray(success[start:end], bool)
            out.append(row)
            if keep:
                stitched.setdefault((scheme, snr), []).append((img, row["psnr"], failed))
        start = end
    return out


def _save_photos(run_dir: RunDir, photos: list[Any], stitched: dict[tuple[str, float], list],
                 picks: list[float], offset_db: float, arch: str, digital_label: str) -> None:
    """For each photo: full-resolution reconstructions ``photos/<n>-<scheme>-<snr>dB.png`` and
    one overview figure ``photo-<n>.png``/``.pdf`` (original beside each scheme at both SNRs,
    the tiles the baseline failed to decode crossed out)."""
    import io

    from PIL import Image

    from psfl.plotting import mark_failed_tiles, subplots
    from psfl.results import atomic_write_bytes

    folder = run_dir.file("photos")
    folder.mkdir(exist_ok=True)
    schemes = list(dict.fromkeys(s for s, _ in stitched))
    names = {"codec": arch, "digital": digital_label}
    for i, photo in enumerate(photos, start=1):
        # one row per scheme, the original in the first column of the first row
        picked = list(dict.fromkeys(picks))
        h, w = photo.image.shape[:2]
        fig, axes = subplots(len(schemes), 1 + len(picked), squeeze=False,
                             figsize=(3.6 * (1 + len(picked)),
                                      3.6 * len(schemes) * h / w + 0.5 * len(schemes)))
        for ax in axes.flat:
            ax.axis("off")
        axes[0, 0].imshow(photo.image, interpolation="antialiased")
        axes[0, 0].set_title(f"original ({w}×{h} px, {photo.num_tiles} tiles)")
        for r, scheme in enumerate(schemes):
            for c, snr in enumerate(picked, start=1):
                img, psnr, failed = stitched[(scheme, snr)][i - 1]
                buf = io.BytesIO()
                Image.fromarray(np.round(img * 255).astype(np.uint8)).save(buf, format="PNG")
                atomic_write_bytes(folder / f"{i}-{scheme}-{snr + offset_db:g}dB.png",
                                   buf.getvalue())
                axes[r, c].imshow(img, interpolation="antialiased")
                title = f"{names[scheme]}, {snr + offset_db:g} dB: PSNR {psnr:.1f} dB"
                if failed is not None:
                    mark_failed_tiles(axes[r, c], failed, tile=h // photo.grid[0], pad=0,
                                      cols=photo.grid[1])
                    title += f"\n{int(failed.sum())} of {failed.size} tiles lost (crossed)"
                axes[r, c].set_title(title)
        fig.suptitle(photo.name)
        run_dir.save_figure(fig, f"photo-{i}.png")
