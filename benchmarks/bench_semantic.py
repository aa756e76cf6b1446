"""Semantic codecs on this machine: cost table, PSNR against SNR, training throughput.

* **Costs**: params, FLOPs and activation memory per image of every codec (k/n = 1/6, 32×32).
* **PSNR vs SNR**: every codec (CSC and each GSC size) trained end to end through
  :class:`psfl.phy.UplinkLink` with the same budget (``--steps`` steps of ``--batch`` images,
  Adam 1e-3 with cosine decay to 5 %, XLA, SNR uniform in [0, 20] dB per image) on the embedded
  training patches, separately over AWGN and over TDL-C (100 ns, perfect CSI), then evaluated on
  the held-back test patches at 0…20 dB next to the digital baseline (JPEG + CRC24A + 5G LDPC +
  QAM) at the same k = 512 channel uses. Its MCS is chosen per SNR from 10 %-BLER thresholds:
  the AWGN table on AWGN, thresholds measured over the TDL-C link itself on TDL-C.
* **Throughput**: training images/s per codec with ``tf.function`` and with XLA
  (``jit_compile=True``), AWGN link, batch 32, median of the steps after the first (trace).

Run ``python -m benchmarks.bench_semantic`` (``--quick`` for a smoke run; ``--steps`` sets the
training budget). Results go to ``--out`` (default ``runs/bench_semantic``) as CSV and PNG.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np


def bench_costs() -> list[dict[str, Any]]:
    from psfl.semantic.models import cost_table

    return cost_table(32, k_over_n=1 / 6)


def bench_throughput(models: list[str], steps: int, batch: int) -> list[dict[str, Any]]:
    """Training images/s per model with XLA off and on (AWGN link, random images)."""
    import tensorflow as tf

    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic.models import build_codec
    from psfl.semantic.train import transmit

    link = UplinkLink(PhyConfig(channel="awgn"))
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, 32, 32, 3), dtype=np.float32))
    snr = tf.constant(rng.uniform(0, 20, batch).astype(np.float32))
    rows = []
    for name in models:
        for xla in (False, True):
            import keras

            codec = build_codec(name)
            opt = keras.optimizers.Adam(1e-3)

            @tf.function(jit_compile=xla, autograph=False)
            def step(codec=codec, opt=opt) -> tf.Tensor:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(transmit(codec, link, x, snr, True) - x))
                grads = tape.gradient(loss, codec.trainable_variables)
                opt.apply_gradients(zip(grads, codec.trainable_variables, strict=True))
                return loss

            t0 = time.perf_counter()
            step().numpy()
            first = time.perf_counter() - t0
            times = []
            for _ in range(steps):
                t0 = time.perf_counter()
                step().numpy()
                times.append(time.perf_counter() - t0)
            med = float(np.median(times))
            rows.append({"model": name, "xla": xla, "images_per_s": batch / med,
                         "ms_per_step": 1e3 * med, "first_step_s": first})
            print(f"throughput {name} xla={xla}: {batch / med:.1f} img/s "
                  f"(first step {first:.1f} s)", flush=True)
    return rows


def held_back_patches(test: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced images of the held-back split: the benchmarks' test set."""
    return test[np.linspace(0, len(test) - 1, n).astype(int)]


def bench_psnr(models: list[str], channels: list[str], steps: int, batch: int,
               snrs: list[float], eval_images: int, baseline: bool,
               out: Any, lr_schedule: str = "cosine", xla: bool = True
               ) -> list[dict[str, Any]]:
    from psfl.config import load_config
    from psfl.data import load_images
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic.models import build_codec
    from psfl.semantic.train import evaluate_codec, train_codec

    train, test = load_images(load_config().data)
    test_imgs = held_back_patches(test.images, eval_images)
    rows = []
    for channel in channels:
        link = UplinkLink(PhyConfig(channel=channel, csi="perfect"))
        for name in models:
            codec = build_codec(name)
            t0 = time.perf_counter()
            res = train_codec(codec, link, train.images, steps=steps, batch_size=batch,
                              learning_rate=1e-3, lr_schedule=lr_schedule,
                              snr_db_range=(0.0, 20.0), seed=0, jit_compile=xla,
                              log_every=max(1, steps // 4), progress=False)
            secs = time.perf_counter() - t0
            for r in evaluate_codec(res.codec, link, test_imgs, snrs):
                rows.append({"channel": channel, "scheme": name, "snr_db": r["snr_db"],
                             "psnr": r["psnr"], "ssim": r["ssim"], "train_steps": steps,
                             "train_s": round(secs, 1)})
            print(f"{channel} {name}: trained {steps} steps in {secs:.0f} s; PSNR "
                  + " ".join(f"{r['psnr']:.2f}" for r in rows[-len(snrs):]), flush=True)
            out.write_csv("psnr_vs_snr.csv", rows)
        if baseline:
            rows += digital_rows(link, channel, test_imgs, snrs, out)
            print(f"{channel} digital: PSNR "
                  + " ".join(f"{r['psnr']:.2f}" for r in rows[-len(snrs):]), flush=True)
            out.write_csv("psnr_vs_snr.csv", rows)
    return rows


def digital_rows(link: Any, channel: str, test_imgs: np.ndarray, snrs: list[float],
                 out: Any) -> list[dict[str, Any]]:
    """The digital baseline at k = 512 over ``link``: MCS per SNR from the AWGN table on AWGN,
    from 10 %-BLER thresholds measured over the link itself on other channels."""
    from psfl.phy.digital import DigitalBaseline, link_mcs_thresholds
    from psfl.semantic.metrics import image_metrics, mean_metrics

    thr = None
    if channel != "awgn":
        t0 = time.perf_counter()
        thr = link_mcs_thresholds(link, 512)
        print(f"MCS thresholds over {channel} ({time.perf_counter() - t0:.0f} s): {thr}",
              flush=True)
        out.write_json(f"thresholds_{channel}.json", thr)
    dig = DigitalBaseline(512, thresholds_db=thr)
    rows = []
    for s in snrs:
        rx, info = dig.transmit(test_imgs, link, s)
        m = mean_metrics(image_metrics(test_imgs, rx))
        rows.append({"channel": channel, "scheme": "digital", "snr_db": s, "psnr": m["psnr"],
                     "ssim": m["ssim"], "success": float(np.mean(info["success"]))})
    return rows


# DeepJSCC (Bourtsoulatze, Kurka, Gündüz, IEEE TCCN 5(3):567-579, 2019, arXiv 1809.01733),
# CIFAR-10, AWGN, k/n = 1/6, one model per training SNR (1, 4, 7, 13, 19 dB) tested at its training
# SNR. The paper gives these only as a plot (Fig. 4); the values are a third-party reading of it,
# approximate to about +-0.5 dB.
DEEPJSCC_CIFAR10_AWGN = {1.0: 24.6, 4.0: 26.5, 7.0: 28.5, 13.0: 30.8, 19.0: 34.0}


def _plot(rows: list[dict[str, Any]], out: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")

    from psfl.plotting import channel_name, color, subplots

    channels = list(dict.fromkeys(r["channel"] for r in rows))
    fig, axes = subplots(1, len(channels), figsize=(5.5 * len(channels), 4), squeeze=False)
    schemes = sorted(dict.fromkeys(r["scheme"] for r in rows), key=lambda s: s == "digital")
    for ax, ch in zip(axes[0], channels, strict=True):
        for scheme in schemes:
            sel = [r for r in rows if r["channel"] == ch and r["scheme"] == scheme]
            if not sel:
                continue
            ax.plot([r["snr_db"] for r in sel], [r["psnr"] for r in sel],
                    "s--" if scheme == "digital" else "o-", color=color(scheme), label=scheme)
        if ch == "awgn":
            ax.plot(list(DEEPJSCC_CIFAR10_AWGN), list(DEEPJSCC_CIFAR10_AWGN.values()), "k:",
                    marker="x", label="DeepJSCC paper, CIFAR-10 (approx.)")
        ax.set_title(f"{channel_name(ch)}, k/n = 1/6, 32×32 test patches")
        ax.set_xlabel("SNR [dB]")
        ax.set_ylabel("PSNR [dB]")
        ax.legend()
    out.save_figure(fig, "psnr_vs_snr.png")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run (tiny budget)")
    p.add_argument("--steps", type=int, default=300, help="training steps per codec/channel")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr-schedule", default="cosine", choices=["constant", "cosine"])
    p.add_argument("--no-xla", action="store_true",
                   help="train in graph mode (default: XLA, faster on this CPU for every codec)")
    p.add_argument("--eval-images", type=int, default=128)
    p.add_argument("--models", default="csc,gsc-s,gsc-m,gsc-l")
    p.add_argument("--channels", default="awgn,tdl-c")
    p.add_argument("--throughput-steps", type=int, default=10)
    p.add_argument("--skip", default="", help="comma list of parts to skip: psnr,throughput")
    p.add_argument("--out", default="runs/bench_semantic")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.eval_images, args.throughput_steps = 3, 8, 2
        args.models, args.channels = "csc,gsc-s", "awgn"
    from psfl.results import RunDir
    from psfl.seeding import set_seed

    set_seed(0)
    out = RunDir(args.out)
    models = args.models.split(",")
    skip = set(filter(None, args.skip.split(",")))
    costs = bench_costs()
    out.write_csv("costs.csv", costs)
    print("| model | params | MFLOPs/image | activation MiB/image |")
    for r in costs:
        print(f"| {r['name']} | {r['params']:,} | {r['flops'] / 1e6:.1f} | "
              f"{r['activation_memory_bytes'] / 2**20:.2f} |")
    if "psnr" not in skip:
        snrs = [0.0, 20.0] if args.quick else [0.0, 5.0, 10.0, 15.0, 20.0]
        rows = bench_psnr(models, args.channels.split(","), args.steps, args.batch, snrs,
                          args.eval_images, True, out, args.lr_schedule, not args.no_xla)
        _plot(rows, out)
    if "throughput" not in skip:
        out.write_csv("throughput.csv", bench_throughput(models, args.throughput_steps,
                                                         args.batch))
    print(f"results in {out.path}/")
    out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
