"""``psfl pretrain`` — train a codec preset on the BS's public images; export it to the zoo.

Stages and data: :mod:`psfl.semantic.pretrain`. Checkpoints go to ``<out>/checkpoints/``;
running the same command with the same ``--out`` resumes (and, once training is done, only
evaluates and exports). After training the codec is evaluated over the real link
(``phy.channel`` = ``--channel``, perfect CSI) on held-back test patches of the embedded data
— data the codec never saw; ``semantic.eval_images`` of them, the zoo's 256 by default — beside
the digital baseline at the same channel uses (AWGN MCS table on AWGN; on a fading channel MCS
thresholds measured over that channel: the table shipped in ``psfl/phy/mcs/`` or, for another
configuration, measured once and cached, :mod:`psfl.phy.digital.calibration`).

``--export DIR`` (e.g. ``psfl/semantic/zoo``) writes ``<model>-<channel>.npz`` and its
provenance ``.json`` (:mod:`psfl.semantic.zoo`). Writes ``training.csv``, ``table.csv``,
``summary.json`` and ``training.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir

#: SNR [dB] of the held-back PSNR recorded during training (the convergence rule's).
CONVERGENCE_SNR_DB = 10.0

HELP = "Pretrain a codec preset on the BS's public images and export it to the shipped zoo."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from psfl.semantic.config import MODEL_NAMES

    parser.add_argument("--model", required=True, choices=MODEL_NAMES, help="codec preset")
    parser.add_argument("--channel", required=True,
                        help="channel of the channel-training stage (e.g. awgn, rayleigh)")
    parser.add_argument("--images", metavar="DIR", required=True,
                        help="folder of the BS's public photographs (README: 'Shipped weights')")
    parser.add_argument("--steps", type=int, required=True, metavar="N",
                        help="optimizer steps in all (masked-patch stage included); 0 with "
                             "--init: the --init weights as they are, measured on --channel and "
                             "exported as its file (one preset file serving two channels)")
    parser.add_argument("--mae-steps", type=int, default=None, metavar="N",
                        help="steps of the masked-patch stage (GSC; default a quarter of --steps, "
                             "0 for csc)")
    parser.add_argument("--init", metavar="CHECKPOINT",
                        help="start from these weights (pretrained:NAME or a .keras file of the "
                             "same preset) instead of a fresh initialization; no masked-patch "
                             "stage")
    parser.add_argument("--minutes", type=float, metavar="T",
                        help="stop after T minutes of training (checkpointed; the same command "
                             "resumes; evaluation and export wait until all --steps are done)")
    parser.add_argument("--images-source", metavar="TEXT", default="",
                        help="where the --images come from, recorded in the provenance (e.g. "
                             "the Debian package and folder)")
    parser.add_argument("--export", metavar="DIR",
                        help="write <model>-<channel>.npz + .json there (e.g. psfl/semantic/zoo)")
    parser.add_argument("--now", action="store_true",
                        help="train no further: evaluate (and export) the last checkpoint as it "
                             "stands, before all --steps are done (its provenance records the "
                             "steps it reached)")
    parser.add_argument("--no-eval", action="store_true",
                        help="train only (no table, no export)")


def link_table(codec: Any, link: Any, images: np.ndarray, snrs: list[float],
               baseline: Any) -> list[dict[str, Any]]:
    """PSNR/SSIM of ``codec`` and of the digital baseline over ``link`` at each SNR (the
    provenance's table)."""
    from psfl.semantic.evaluate import sweep

    rows = sweep({"codec": codec}, link, {"test": images}, snrs, baseline=baseline,
                 jit_compile=True)
    return [{"snr_db": r["snr_db"], "psnr": round(r["codec_psnr"], 3),
             "ssim": round(r["codec_ssim"], 4), "digital_psnr": round(r["digital_psnr"], 3),
             "digital_ssim": round(r["digital_ssim"], 4),
             "digital_delivered": round(r["digital_success"], 4)} for r in rows]


def _plan(args: argparse.Namespace, config: Config) -> Any:
    """The training plan of the command line, its arguments checked."""
    from psfl.phy.channels.registry import CHANNELS
    from psfl.semantic.presets.registry import CODECS
    from psfl.semantic.pretrain import PretrainPlan

    CHANNELS.get(args.channel)  # an unknown channel: the registry's message
    if args.steps < 0 or (args.steps == 0 and not args.init):
        raise ValueError(f"--steps {args.steps} must be >= 1 (or 0 with --init, to measure and "
                         "export those weights on --channel)")
    if args.minutes is not None and args.minutes <= 0:
        raise ValueError(f"--minutes {args.minutes} must be > 0")
    mae = args.mae_steps
    if mae is None:  # a quarter of the steps for a fresh transformer, none otherwise
        fresh_gsc = CODECS.capability(args.model, "family") == "gsc" and not args.init
        mae = args.steps // 4 if fresh_gsc else 0
    sem, phy = config.semantic, config.phy
    return PretrainPlan(model=args.model, channel=args.channel, steps=args.steps, mae_steps=mae,
                        batch_size=sem.batch_size, learning_rate=sem.learning_rate,
                        snr_db_range=(phy.snr_db_min, phy.snr_db_max), seed=config.run.seed,
                        init=args.init)


def _start(args: argparse.Namespace, run_dir: RunDir) -> tuple[str | None, int]:
    """Where this run started, read once and kept with its checkpoints
    (``checkpoints/start.json``, which a later run of the same ``--out`` keeps): an export
    replaces the very zoo file a warm start began from, and a later --now or resume must not
    count that export's images as the starting point's."""
    import json

    from psfl.results import atomic_write_bytes
    from psfl.semantic.pretrain import start_point

    kept = run_dir.file("checkpoints") / "start.json"
    if kept.is_file():
        got = json.loads(kept.read_text())
        return got["init"], int(got["images_seen"])
    name, images = start_point(args.init, args.channel)
    kept.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(kept, json.dumps({"init": name, "images_seen": images}).encode())
    return name, images


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    from psfl.semantic.evaluate import held_back_patches
    from psfl.semantic.pretrain import public_patches, reached, train_wall_s

    plan, sem = _plan(args, config), config.semantic
    mae = plan.mae_steps
    init_name, init_images = _start(args, run_dir)
    images, sources = public_patches(args.images, config.data.patch_size)
    config = config.replace("phy", channel=args.channel, csi="perfect")
    run_dir.write_config(config)
    run_dir.log(f"pretraining {args.model} on {len(images)} public patches of {len(sources)} "
                f"photos in {args.images}: {mae} masked-patch + {args.steps - mae} channel steps "
                f"over {args.channel}", echo=True)

    from psfl.phy import UplinkLink
    from psfl.semantic.power import k_from_ratio
    from psfl.semantic.pretrain import pretrain

    k = sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)
    link = UplinkLink(config.phy)
    test = held_back_patches(config.data.patch_size, sem.eval_images)
    if args.now and args.steps:  # with --steps 0 there is no checkpoint: the init is exported
        codec, history, done = reached(run_dir.file("checkpoints"))
        finished = True
    else:
        done = None
        codec, history, finished = pretrain(
            plan, images, link, run_dir.file("checkpoints"), image_size=config.data.patch_size,
            k=k, log=run_dir.log, max_seconds=None if args.minutes is None else 60 * args.minutes,
            test_images=test, eval_every=max(500, args.steps // 2000 * 100),
            eval_snr_db=CONVERGENCE_SNR_DB)
    run_dir.write_csv("training.csv", history)
    summary: dict[str, Any] = {"model": args.model, "channel": args.channel, "steps": args.steps,
                               "mae_steps": mae, "train_wall_s": train_wall_s(history),
                               "public_patches": len(images), "finished": finished}
    if not finished:
        print(f"time budget reached before step {args.steps}; run the same command again to "
              "resume", file=sys.stderr)
    if args.no_eval or not finished:
        return summary

    from psfl.semantic.evaluate import digital_baseline

    # a fading channel needs its own table: measured once (minutes) and cached when not shipped
    baseline = digital_baseline(link.cfg, sem, k, calibrate=args.channel != "awgn",
                                log=lambda m: run_dir.log(m, echo=True))
    table = link_table(codec, link, test, list(sem.eval_snr_db), baseline.scheme)
    run_dir.write_csv("table.csv", table)
    for row in table:
        run_dir.log(" ".join(f"{k}={v}" for k, v in row.items()), echo=True)
    summary["table"] = table
    if args.export:
        from psfl.semantic.pretrain import zoo_evaluation, zoo_record

        summary["exported"] = _export(codec, args, run_dir, zoo_record(
            plan, codec, history, images_dir=str(args.images), origin=args.images_source,
            sources=sources, public_patches=len(images), start=(init_name, init_images),
            table=table, steps_done=done,
            evaluation=zoo_evaluation(len(test), args.channel, baseline.description)), test)
    return summary


def _export(codec: Any, args: argparse.Namespace, run_dir: RunDir, record: dict[str, Any],
            test: np.ndarray) -> str:
    """Write the zoo file and its provenance (with float16 storage's PSNR change)."""
    from psfl.semantic import zoo
    from psfl.semantic.pretrain import float16_change_db

    record["float16_psnr_change_db"] = round(float16_change_db(codec, test), 4)
    path = zoo.export(codec, args.channel, record, Path(args.export))
    run_dir.log(f"exported {path} ({path.stat().st_size / 1e6:.2f} MB)", echo=True)
    return str(path)
