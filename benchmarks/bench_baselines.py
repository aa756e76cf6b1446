"""Which digital baseline is strongest, and where the shipped learned codecs stand against each.

For each channel (AWGN and Rayleigh block fading with perfect CSI, the zoo's two training
channels; TDL-C with LS estimation at the default numerology, 100 ns and static, as the shipped
MCS table) and each data set, at each SNR, through the real
:class:`psfl.phy.UplinkLink`:

* the digital baseline with every source coder (JPEG, WebP, JPEG 2000, AVIF) + CRC24A + 5G LDPC
  + QAM at the same k = 512 channel uses, MCS thresholds from the table shipped for that channel
  configuration (:mod:`psfl.phy.digital.calibration`);
* the source coders at the channel's capacity, error-free (:mod:`psfl.phy.digital.capacity`);
* every shipped codec (``pretrained:csc``, ``gsc-s``, ``gsc-m``, ``gsc-l``; the AWGN variant on
  AWGN, the Rayleigh variant on Rayleigh and TDL-C).

Data sets: 256 evenly spaced held-back test patches of the embedded data (the zoo's evaluation
set), and ``--tiles`` evenly spaced 32x32 tiles of the photos in ``--photos`` (e.g. two
2560x1600 photographs of Debian's ``plasma-workspace-wallpapers``, which neither the zoo nor any
MU saw). Every scheme at one SNR sees the same images and, through ``set_seed``, the same
channel and noise draws (paired comparison).

    python -m benchmarks.bench_baselines --photos DIR [--tiles 512] [--out runs/bench_baselines]

Writes ``baselines.csv`` and ``baselines.png`` to ``--out`` and prints two Markdown tables for
``benchmarks/RESULTS.md``: per channel, data set and SNR the strongest baseline and each learned
codec's PSNR minus it; and one row per zoo file (images seen, its last training run, convergence
and PSNR / SSIM per SNR from its provenance's machine) beside the strongest baseline and the
capacity bound on the held-back patches. ``--replot CSV`` redraws both from an earlier run.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

CHANNELS = {"awgn": {"channel": "awgn", "csi": "perfect"},
            "rayleigh": {"channel": "rayleigh", "csi": "perfect"},
            "tdl-c": {"channel": "tdl-c", "csi": "ls"}}
MODELS = ("csc", "gsc-s", "gsc-m", "gsc-l")


def data_sets(photos: str | None, tiles: int, patches: int) -> dict[str, np.ndarray]:
    from psfl.data import read_photos
    from psfl.semantic.evaluate import held_back_patches

    sets = {"patches": held_back_patches(32, patches)}
    if photos:
        all_tiles = np.concatenate([p.tiles() for p in read_photos(photos, 32)])
        idx = np.linspace(0, len(all_tiles) - 1, min(tiles, len(all_tiles))).astype(int)
        sets["photos"] = all_tiles[idx]
    return sets


def measure(channel: str, images: np.ndarray, snrs: list[float], dataset: str
            ) -> list[dict[str, Any]]:
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.digital.calibration import thresholds_for
    from psfl.phy.digital.capacity import capacity_reference
    from psfl.phy.digital.source import CODECS
    from psfl.seeding import set_seed
    from psfl.semantic.metrics import image_metrics, mean_metrics
    from psfl.semantic.models import load_codec
    from psfl.semantic.train import evaluate_codec

    cfg = PhyConfig(**CHANNELS[channel])
    link = UplinkLink(cfg)
    k = 512
    thresholds = thresholds_for(cfg, k)
    if thresholds is None and channel != "awgn":
        raise SystemExit(f"no MCS table shipped for {channel}; run benchmarks/mcs_thresholds.py")
    rows = []

    def add(scheme: str, kind: str, snr: float, m: dict[str, float], t0: float,
            delivered: float | None = None) -> None:
        rows.append({"channel": channel, "dataset": dataset, "snr_db": snr, "scheme": scheme,
                     "kind": kind, "psnr": round(m["psnr"], 3), "ssim": round(m["ssim"], 4),
                     "delivered": delivered, "seconds": round(time.perf_counter() - t0, 1)})
        print(f"{channel:6s} {dataset:8s} {snr:5.1f} dB {scheme:10s} PSNR {m['psnr']:6.2f} dB"
              + ("" if delivered is None else f"  delivered {delivered:.2f}"), flush=True)

    for name in MODELS:
        codec = load_codec(f"pretrained:{name}", channel=channel, compile=False)
        set_seed(0)
        t0 = time.perf_counter()
        for res in evaluate_codec(codec, link, images, snrs, jit_compile=True):
            add(name, "learned", res["snr_db"], res, t0)
    for snr in snrs:
        for coder in CODECS:
            set_seed(int(snr) + 1000)
            t0 = time.perf_counter()
            baseline = DigitalBaseline(k, thresholds_db=thresholds, codec=coder)
            rx, info = baseline.transmit(images, link, snr)
            add(coder, "digital", snr, mean_metrics(image_metrics(images, rx)), t0,
                float(np.mean(info["success"])))
        set_seed(int(snr) + 1000)
        t0 = time.perf_counter()
        rec, _ = capacity_reference(images, k, snr, None if channel == "awgn" else link)
        add("capacity", "bound", snr, mean_metrics(image_metrics(images, rec)), t0)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| channel | data | SNR [dB] | strongest baseline (PSNR, delivered) | capacity | "
             + " | ".join(f"{m} − best" for m in MODELS) + " |",
             "|---|---|---|---|---|" + "---|" * len(MODELS)]
    keys = list(dict.fromkeys((r["channel"], r["dataset"], r["snr_db"]) for r in rows))
    for ch, ds, snr in keys:
        sel = [r for r in rows if (r["channel"], r["dataset"], r["snr_db"]) == (ch, ds, snr)]
        best = max((r for r in sel if r["kind"] == "digital"), key=lambda r: r["psnr"])
        cap = next(r["psnr"] for r in sel if r["kind"] == "bound")
        learned = {r["scheme"]: r["psnr"] for r in sel if r["kind"] == "learned"}
        lines.append(f"| {ch} | {ds} | {snr:g} | {best['scheme']} ({best['psnr']:.2f} dB, "
                     f"{best['delivered']:.2f}) | {cap:.2f} | "
                     + " | ".join(f"{learned[m] - best['psnr']:+.2f}" for m in MODELS) + " |")
    return "\n".join(lines)


def zoo_markdown(rows: list[dict[str, Any]]) -> str:
    """One row per shipped file evaluated on its own training channel (held-back patches; PSNR
    (SSIM) per SNR), then the strongest baseline and the capacity bound on the same images."""
    from psfl.semantic import zoo

    snrs = sorted({r["snr_db"] for r in rows})
    lines = ["| file | images seen | last run (wall, machine) | over the last 20 % | "
             + " | ".join(f"{s:g} dB" for s in snrs) + " |",
             "|---|---|---|---|" + "---|" * len(snrs)]
    for ch in zoo.ZOO_CHANNELS:
        at = {s: [r for r in rows if (r["channel"], r["dataset"], r["snr_db"])
                  == (ch, "patches", s)] for s in snrs}
        if not any(at.values()):
            continue
        for m in MODELS:
            prov = zoo.provenance(f"{m}-{ch}")
            conv = prov.get("convergence") or {}
            gain = (f"{conv['gain_db']:+.2f} dB ({'converged' if conv['converged'] else 'not'})"
                    if "gain_db" in conv else "–" if prov["steps"] else
                    f"not trained on {ch} ({prov['init']})")
            wall = f"{prov['train_wall_s'] / 3600:.2f} h, {prov['machine'].split(',')[0]}"
            got = [next(r for r in at[s] if r["scheme"] == m) for s in snrs]
            lines.append(f"| {m}-{ch} | {prov['images_seen'] / 1e6:.2f} M | {wall} | {gain} | "
                         + " | ".join(f"{r['psnr']:.2f} ({r['ssim']:.3f})" for r in got) + " |")
        best = [max((r for r in at[s] if r["kind"] == "digital"), key=lambda r: r["psnr"])
                for s in snrs]
        cap = [next(r for r in at[s] if r["kind"] == "bound") for s in snrs]
        lines.append(f"| strongest baseline, {ch} | | | | " + " | ".join(
            f"{r['scheme']} {r['psnr']:.2f} ({r['ssim']:.3f})" for r in best) + " |")
        lines.append(f"| capacity bound, {ch} | | | | "
                     + " | ".join(f"{r['psnr']:.2f}" for r in cap) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], out: Any) -> None:
    """``baselines.png`` and ``.pdf`` in the run directory ``out``, in psfl's figure style."""
    import matplotlib

    matplotlib.use("Agg")

    from psfl.plotting import channel_name, color, subplots

    panels = list(dict.fromkeys((r["channel"], r["dataset"]) for r in rows))
    fig, axes = subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    schemes = list(dict.fromkeys(r["scheme"] for r in rows))
    for ax, (ch, ds) in zip(axes[0], panels, strict=True):
        for s in schemes:
            sel = [r for r in rows if (r["channel"], r["dataset"], r["scheme"]) == (ch, ds, s)]
            kind = sel[0]["kind"]
            style = {"learned": "o-", "digital": "s:", "bound": "--"}[kind]
            ax.plot([r["snr_db"] for r in sel], [r["psnr"] for r in sel], style, label=s,
                    ms=3, color=color("capacity" if kind == "bound" else s))
        ax.set_title(f"{channel_name(ch)}, {ds}")
        ax.set_xlabel("SNR [dB]")
        ax.set_ylabel("PSNR [dB]")
    axes[0][-1].legend(fontsize=7)
    out.save_figure(fig, "baselines.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", help="folder of larger photos (not in any training set)")
    ap.add_argument("--tiles", type=int, default=512, help="tiles of the photos evaluated")
    ap.add_argument("--patches", type=int, default=256, help="test patches evaluated")
    ap.add_argument("--snr", default="0,5,10,15,20")
    ap.add_argument("--channels", default="awgn,tdl-c")
    ap.add_argument("--out", default="runs/bench_baselines")
    ap.add_argument("--replot", metavar="CSV",
                    help="only draw the figure again from an earlier baselines.csv")
    args = ap.parse_args(argv)
    from psfl.results import RunDir

    if args.replot:
        import csv

        with open(args.replot, newline="") as f:
            rows = [{**r, "snr_db": float(r["snr_db"]), "psnr": float(r["psnr"]),
                     "ssim": float(r["ssim"]), "delivered": float(r["delivered"] or "nan")}
                    for r in csv.DictReader(f)]
        plot(rows, RunDir(args.out))
        print(markdown(rows) + "\n\n" + zoo_markdown(rows))
        return 0
    snrs = [float(v) for v in args.snr.split(",")]
    out = RunDir(args.out)
    rows: list[dict[str, Any]] = []
    for dataset, images in data_sets(args.photos, args.tiles, args.patches).items():
        for channel in args.channels.split(","):
            rows += measure(channel, images, snrs, dataset)
            out.write_csv("baselines.csv", rows)
    plot(rows, out)
    print(markdown(rows) + "\n\n" + zoo_markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
