"""Train codecs on an accelerator machine without TensorFlow, evaluate them here through the link.

Three steps, each a subcommand:

``prepare`` (here, TensorFlow + Sionna)
    Writes ``DIR/data.npz`` — the embedded training patches (uint8; ``--stride`` cuts overlapping
    patches from the *training* regions only, so the held-back split is untouched) — and
    ``DIR/gains_<channel>.npy``, the per-symbol channel gains of each fading channel sampled from
    :class:`psfl.phy.UplinkLink` (:func:`psfl.semantic.surrogate.gain_table`).
``train`` (the accelerator machine: Keras on JAX or PyTorch, ``KERAS_BACKEND``)
    Trains one codec preset over one channel through
    :class:`psfl.semantic.surrogate.SurrogateTrainer` for a wall-time budget (Adam, the rate
    divided by 10 for the last 20 %), random flips of the patches, and writes
    ``OUT/<tag>.weights.h5``, ``OUT/<tag>.keras`` (a checkpoint for ``psfl link --checkpoint``)
    and ``OUT/<tag>.json`` (steps, images/s, loss curve), ``<tag>`` being
    ``<model>_<channel>[_snr<lo>-<hi>]``.
``evaluate`` (here)
    Loads every ``*.weights.h5`` of a directory into its preset, sends the 128 held-back test
    patches through the real link at 0…20 dB beside the digital baseline (as
    ``benchmarks.bench_semantic``) and writes CSV + PNG.

Example::

    python -m benchmarks.train_accel prepare --dir .accel
    KERAS_BACKEND=jax python -m benchmarks.train_accel train --dir .accel --model csc \\
        --channel awgn --seconds 300 --out runs/accel
    python -m benchmarks.train_accel evaluate --weights runs/accel --out runs/accel_eval
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

FADING_TABLE_ROWS = 8192


def prepare(directory: Path, stride: int, channels: list[str], rows: int) -> None:
    from psfl.config import load_config
    from psfl.data import load_skimage
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic.surrogate import gain_table

    cfg = load_config().data
    train, _ = load_skimage(cfg.patch_size, stride, cfg.test_fraction)
    directory.mkdir(parents=True, exist_ok=True)
    imgs = np.round(np.clip(train.images, 0, 1) * 255).astype(np.uint8)
    np.savez_compressed(directory / "data.npz", train=imgs)
    print(f"data.npz: {len(imgs)} training patches (stride {stride})", flush=True)
    for ch in channels:
        if ch == "awgn":
            continue
        g = gain_table(UplinkLink(PhyConfig(channel=ch, csi="perfect")), 512, rows)
        np.save(directory / f"gains_{ch}.npy", g.astype(np.float16))
        print(f"gains_{ch}.npy: {g.shape}, mean {g.mean():.3f}, "
              f"P(g < 0.1) = {np.mean(g < 0.1):.3f}", flush=True)


class _Batches:
    """Random batches of flipped patches, as float32 in [0, 1] (input = target)."""

    def __init__(self, images: np.ndarray, batch: int, seed: int):
        self.images, self.batch = images, batch
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        while True:
            x = self.images[self.rng.integers(0, len(self.images), self.batch)]
            flip_h = self.rng.random(self.batch) < 0.5
            flip_v = self.rng.random(self.batch) < 0.5
            x = np.where(flip_h[:, None, None, None], x[:, :, ::-1], x)
            x = np.where(flip_v[:, None, None, None], x[:, ::-1], x)
            x = x.astype(np.float32) / 255.0
            yield x, x


def train(directory: Path, model: str, channel: str, seconds: float, batch: int, lr: float,
          snr_range: tuple[float, float], out: Path, seed: int, init: Path | None = None
          ) -> dict[str, Any]:
    import keras

    from psfl.semantic.models import build_codec
    from psfl.semantic.surrogate import SurrogateTrainer, TimeBudget

    keras.utils.set_random_seed(seed)
    images = np.load(directory / "data.npz")["train"]
    gains = None if channel == "awgn" else np.load(directory / f"gains_{channel}.npy")
    codec = build_codec(model)
    if init is not None:
        codec.load_weights(init)
    trainer = SurrogateTrainer(codec, gains, snr_db_range=snr_range, seed=seed)
    trainer.compile(optimizer=keras.optimizers.Adam(lr), loss="mse", jit_compile="auto")
    steps_per_epoch = 250
    budget = TimeBudget(seconds)
    t0 = time.monotonic()
    report = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: e % 20 or print(
        f"epoch {e}: {int(keras.ops.convert_to_numpy(trainer.optimizer.iterations))} steps, "
        f"{time.monotonic() - t0:.0f} s, loss {logs['loss']:.4g}", flush=True))
    hist = trainer.fit(iter(_Batches(images, batch, seed)), epochs=100_000,
                       steps_per_epoch=steps_per_epoch, callbacks=[budget, report], verbose=0)
    secs = time.monotonic() - t0
    losses = [float(v) for v in hist.history["loss"]]
    steps = int(keras.ops.convert_to_numpy(trainer.optimizer.iterations))
    tag = f"{model}_{channel}" + ("" if snr_range == (0.0, 20.0)
                                  else f"_snr{snr_range[0]:g}-{snr_range[1]:g}")
    out.mkdir(parents=True, exist_ok=True)
    codec.save_weights(out / f"{tag}.weights.h5")
    codec.save(out / f"{tag}.keras")  # loads under TensorFlow too: psfl link --checkpoint
    rec = {"model": model, "channel": channel, "snr_db_range": snr_range,
           "init": str(init) if init else None, "backend": keras.backend.backend(),
           "steps": steps, "batch": batch, "images": steps * batch, "lr": lr,
           "seconds": round(secs, 1), "images_per_s": round(steps * batch / secs, 1),
           "epoch_losses": losses}
    (out / f"{tag}.json").write_text(json.dumps(rec))
    print(f"{tag}: {steps} steps x {batch} in {secs:.0f} s ({rec['images_per_s']:.0f} img/s), "
          f"loss {losses[0]:.4g} -> {losses[-1]:.4g}", flush=True)
    return rec


#: The sweep's runs: (model, channel). GSC-L only on AWGN, as in bench_semantic's record.
SWEEP = [("csc", "awgn"), ("gsc-s", "awgn"), ("gsc-m", "awgn"), ("gsc-l", "awgn"),
         ("csc", "tdl-c"), ("gsc-s", "tdl-c"), ("gsc-m", "tdl-c")]


def sweep(directory: Path, seconds: float, batch: int, lr: float, out: Path) -> int:
    """Run every :data:`SWEEP` entry as its own process, all at once (small models leave an
    accelerator mostly idle when trained one at a time); returns the number that failed."""
    import subprocess
    import sys

    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for model, channel in SWEEP:
        log = open(out / f"{model}_{channel}.log", "w")  # noqa: SIM115 - closed below
        cmd = [sys.executable, "-m", "benchmarks.train_accel", "train", "--dir", str(directory),
               "--model", model, "--channel", channel, "--seconds", str(seconds),
               "--batch", str(batch), "--lr", str(lr), "--out", str(out)]
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
    failed = 0
    for proc, log in procs:
        failed += proc.wait() != 0
        log.close()
    return failed


def evaluate(weights: Path, out_dir: str, eval_images: int, snrs: list[float],
             baseline: bool) -> list[dict[str, Any]]:
    from benchmarks.bench_semantic import _plot, digital_rows, held_back_patches
    from psfl.config import load_config
    from psfl.data import load_images
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.results import RunDir
    from psfl.semantic.models import build_codec
    from psfl.semantic.train import evaluate_codec

    _, test = load_images(load_config().data)
    test_imgs = held_back_patches(test.images, eval_images)
    out = RunDir(out_dir)
    files = sorted(weights.glob("*.weights.h5"))
    if not files:
        raise SystemExit(f"no *.weights.h5 in {weights}; run the train step first")
    rows: list[dict[str, Any]] = []
    by_channel: dict[str, list[Path]] = {}
    for f in files:
        by_channel.setdefault(f.name.split("_")[1].removesuffix(".weights.h5"), []).append(f)
    for channel, fs in by_channel.items():
        link = UplinkLink(PhyConfig(channel=channel, csi="perfect"))
        for f in fs:
            tag = f.name.removesuffix(".weights.h5")
            model = tag.split("_")[0]
            codec = build_codec(model)
            codec.load_weights(f)
            rec_path = f.with_name(f"{tag}.json")
            rec = json.loads(rec_path.read_text()) if rec_path.exists() else {}
            scheme = model + tag.removeprefix(f"{model}_{channel}").replace("_", " ")
            for r in evaluate_codec(codec, link, test_imgs, snrs):
                rows.append({"channel": channel, "scheme": scheme, "snr_db": r["snr_db"],
                             "psnr": r["psnr"], "ssim": r["ssim"],
                             "train_images": rec.get("images", 0),
                             "train_s": rec.get("seconds", 0.0)})
            print(f"{channel} {scheme}: PSNR "
                  + " ".join(f"{r['psnr']:.2f}" for r in rows[-len(snrs):]), flush=True)
        if baseline:
            rows += digital_rows(link, channel, test_imgs, snrs, out)
            print(f"{channel} digital: PSNR "
                  + " ".join(f"{r['psnr']:.2f}" for r in rows[-len(snrs):]), flush=True)
        out.write_csv("psnr_vs_snr.csv", rows)
    _plot(rows, out)
    print(f"results in {out.path}/")
    out.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="training patches and fading gain tables (needs TF)")
    pp.add_argument("--dir", default=".accel")
    pp.add_argument("--stride", type=int, default=8)
    pp.add_argument("--channels", default="awgn,tdl-c")
    pp.add_argument("--rows", type=int, default=FADING_TABLE_ROWS)
    pt = sub.add_parser("train", help="train one codec (any Keras backend)")
    pt.add_argument("--dir", default=".accel")
    pt.add_argument("--model", default="csc")
    pt.add_argument("--channel", default="awgn")
    pt.add_argument("--seconds", type=float, default=300.0)
    pt.add_argument("--batch", type=int, default=128)
    pt.add_argument("--lr", type=float, default=1e-3)
    pt.add_argument("--snr-range", default="0,20", help="training SNR range in dB, 'lo,hi'")
    pt.add_argument("--init", default=None, help="start from these weights (*.weights.h5)")
    pt.add_argument("--seed", type=int, default=0)
    pt.add_argument("--out", default="runs/accel")
    ps = sub.add_parser("sweep", help="train every SWEEP entry in parallel (any Keras backend)")
    ps.add_argument("--dir", default=".accel")
    ps.add_argument("--seconds", type=float, default=300.0)
    ps.add_argument("--batch", type=int, default=128)
    ps.add_argument("--lr", type=float, default=1e-3)
    ps.add_argument("--out", default="runs/accel")
    pe = sub.add_parser("evaluate", help="evaluate trained weights through the link (needs TF)")
    pe.add_argument("--weights", default="runs/accel")
    pe.add_argument("--eval-images", type=int, default=128)
    pe.add_argument("--snr", default="0,5,10,15,20")
    pe.add_argument("--no-baseline", action="store_true")
    pe.add_argument("--out", default="runs/accel_eval")
    a = p.parse_args(argv)
    if a.cmd == "prepare":
        prepare(Path(a.dir), a.stride, a.channels.split(","), a.rows)
    elif a.cmd == "train":
        lo, hi = (float(v) for v in a.snr_range.split(","))
        train(Path(a.dir), a.model, a.channel, a.seconds, a.batch, a.lr, (lo, hi), Path(a.out),
              a.seed, Path(a.init) if a.init else None)
    elif a.cmd == "sweep":
        return min(1, sweep(Path(a.dir), a.seconds, a.batch, a.lr, Path(a.out)))
    else:
        evaluate(Path(a.weights), a.out, a.eval_images, [float(s) for s in a.snr.split(",")],
                 not a.no_baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
