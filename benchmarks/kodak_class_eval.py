"""The shipped zoo on whole photographs no codec saw: the Kodak-class set (issue 23, item 5).

Every photo of ``.public/kodak-class/`` (24 photographs at 768×512 from Debian packages no codec
trains on, ``benchmarks/public_photos.sh``; SHA-256 in ``psfl/semantic/zoo/kodak-class.sha256``)
is sent whole (:func:`psfl.semantic.photos.whole_photo_sweep`): each shipped codec window by
window at each bandwidth ratio of ``--ratios`` (the zoo's presets at 1/6, csc alone at 1/16: the
files the zoo has for the ratio and channel), the digital baseline with one JPEG codestream per
photo over one 5G transport block per slot in the same k channel uses (MCS table shipped for the
channel configuration, whose thresholds are per full slot whatever the ratio; receiver: the PHY
abstraction, as ``psfl link`` uses for photos this size) and JPEG at the capacity of the same
channel uses. Channels: AWGN with perfect CSI;
TDL-C (100 ns) with LS CSI. The draws are seeded per photo and SNR (reproducible; the schemes take
their draws one after the other in the evaluator's order).

    python -m benchmarks.kodak_class_eval [--photos .public/kodak-class] [--snr 0,5,10,15,20]
        [--channels awgn,tdl-c] [--ratios 1/6,1/16] [--photo-loss photo|slice]
        [--slot-timing independent|consecutive] [--out runs/kodak_class]

``--photo-loss slice`` gives the baseline the per-slice loss rule (``semantic.photo_loss``: JPEG
with a restart marker per MCU row, a failed TB loses only the restart intervals it touches,
:mod:`psfl.phy.digital.slices`); the table then also shows the share of slices delivered.
``--compare-loss`` runs the baseline alone (no codec) under both loss rules with the same draws
and prints per channel and SNR its mean PSNR, photo and slice delivery, and the error-free PSNR
of each rule's stream (the restart markers' cost).

``--tables CSV[,CSV…]`` sends nothing: it redraws the figure and the table from earlier runs'
``kodak_class.csv`` files (e.g. one run per ratio, side by side).

``--slot-timing consecutive`` draws a photo's slots as consecutive samples of one TDL
realization (``phy.slot_timing``) instead of independent draws.

Writes ``kodak_class.csv`` (per photo, channel, ratio, SNR: every scheme's PSNR, SSIM, MS-SSIM and
the baseline's delivery) and ``kodak_class.png`` (mean PSNR and MS-SSIM against SNR, with the
published Kodak anchors of the field quoted below as markers) to ``--out``, and prints a Markdown
table of the means for ``benchmarks/RESULTS.md``.

Published Kodak anchors (AWGN, PSNR; different images, ratio 1/16, so a place on the map, not a
comparison): WITT 29.7 dB at 1 dB and 33.6 dB at 10 dB; BPG + 5G LDPC 33.3 dB at 10 dB (Yang et
al., "WITT: A Wireless Image Transmission Transformer for Semantic Communications", ICASSP 2023,
Fig. 3; as quoted in issue 22).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

CHANNELS = {"awgn": {"channel": "awgn", "csi": "perfect"},
            "tdl-c": {"channel": "tdl-c", "csi": "ls"}}
MODELS = ("csc", "gsc-s", "gsc-m", "gsc-l")
ANCHORS = {"WITT (Kodak, 1/16)": [(1.0, 29.7), (10.0, 33.6)],
           "BPG+LDPC (Kodak, 1/16)": [(10.0, 33.3)]}


def shipped_names(channel: str, ratio: float) -> list[str]:
    """The zoo's files for ``channel`` at bandwidth ratio ``ratio`` (the presets it has)."""
    from psfl.semantic import zoo

    names = []
    for model in MODELS:
        try:
            names.append(zoo.resolve(f"pretrained:{model}", channel, k_over_n=ratio))
        except ValueError:
            continue
    if not names:
        raise SystemExit(f"the zoo has no codec for {channel} at k/n = {ratio:.4g}")
    return names


def measure(channel: str, photos: list[Any], snrs: list[float], ratio: float,
            photo_loss: str = "photo", slot_timing: str = "independent") -> list[dict[str, Any]]:
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.seeding import set_seed
    from psfl.semantic import zoo
    from psfl.semantic.config import SemanticConfig
    from psfl.semantic.evaluate import digital_baseline
    from psfl.semantic.photos import whole_photo_sweep

    timing = {"slot_timing": slot_timing} if channel != "awgn" else {}
    phy = PhyConfig(**CHANNELS[channel], **timing)
    link = UplinkLink(phy)
    codecs = {zoo.provenance(n)["model"]: zoo.load_pretrained(zoo.PREFIX + n)
              for n in shipped_names(phy.channel, ratio)}
    # the table of the 1/6 patches: its thresholds are those of one full slot, as every TB of a
    # photo fills one, at any ratio
    base = digital_baseline(phy, SemanticConfig(photo_loss=photo_loss), 512)
    rows, by_size = [], {}  # one call per photo and SNR (its seed), the codecs traced once
    for i, photo in enumerate(photos):
        t0 = time.perf_counter()
        for snr in snrs:
            set_seed(1000 * i + int(snr))
            got = whole_photo_sweep(codecs, link, [photo], [snr], by_size=by_size,
                                    baseline_for=lambda k, px: base.for_photo(k, "abstraction"))
            rows.extend({**r, "channel": channel, "ratio": ratio_label(ratio)} for r in got)
        print(f"{channel} 1/{1 / ratio:.0f} {photo.name}: {time.perf_counter() - t0:.1f} s",
              flush=True)
    return rows


def ratio_label(ratio: float) -> str:
    return f"1/{1 / ratio:.0f}"


def compare_loss(channel: str, photos: list[Any], snrs: list[float]) -> list[dict[str, Any]]:
    """The baseline alone under both loss rules (module docstring), one row per photo, SNR and
    rule; each rule takes the same seeds, so both see the same channel and code-block draws."""
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.phy.digital import symbols_for
    from psfl.seeding import set_seed
    from psfl.semantic.config import SemanticConfig
    from psfl.semantic.evaluate import digital_baseline

    phy = PhyConfig(**CHANNELS[channel])
    link = UplinkLink(phy)
    base = digital_baseline(phy, SemanticConfig(), 512)
    rows = []
    for i, photo in enumerate(photos):
        k = symbols_for(*photo.image.shape[:2], 1 / 6)
        for snr in snrs:
            for loss in ("photo", "slice"):
                set_seed(1000 * i + int(snr))
                scheme = base.for_photo(k, "abstraction", loss).baseline
                _, info = scheme.transmit(photo.image, link, snr, k)
                _, clean = scheme.source_roundtrip(photo.image, k, info["mcs"])
                rows.append({"channel": channel, "photo": photo.name, "snr_db": snr,
                             "loss": loss, "mcs": int(info["mcs"][0]),
                             "psnr": float(info["psnr"][0]),
                             "delivered": float(info["success"][0]),
                             "slices": float(info["slices_delivered"][0]),
                             "tb_ok": float(info["tb_ok"].mean()),
                             "error_free_psnr": float(clean["psnr"][0])})
            print(f"{channel} {photo.name} {snr:g} dB: " + ", ".join(
                f"{r['loss']} {r['psnr']:.2f} dB ({100 * r['slices']:.0f} % slices)"
                for r in rows[-2:]), flush=True)
    return rows


def means(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from psfl.semantic.photos import mean_rows

    out = []
    for key in dict.fromkeys((r["channel"], r["ratio"]) for r in rows):
        out.extend({**m, "channel": key[0], "ratio": key[1]} for m in mean_rows(
            [r for r in rows if (r["channel"], r["ratio"]) == key]))
    return out


def draw(table: list[dict[str, Any]], path: Path) -> None:
    from psfl.plotting import subplots

    panels = list(dict.fromkeys((r["channel"], r["ratio"]) for r in table))
    # the field's anchors are at 1/16: drawn there, or on AWGN at any ratio when 1/16 is not run
    anchored = "1/16" if ("awgn", "1/16") in panels else None
    schemes = (*MODELS, "digital", "capacity")
    fig, axes = subplots(2, len(panels), squeeze=False, figsize=(5.5 * len(panels), 8))
    for c, (channel, ratio) in enumerate(panels):
        rows = [r for r in table if (r["channel"], r["ratio"]) == (channel, ratio)]
        snr = [r["snr_db"] for r in rows]
        for r_, metric in enumerate(("psnr", "ms_ssim")):
            ax = axes[r_, c]
            for i, scheme in enumerate(schemes):
                key = f"{scheme}_{metric}"
                if key in rows[0]:
                    ax.plot(snr, [r[key] for r in rows], marker="o", color=f"C{i}",
                            ls="--" if scheme == "capacity" else "-",
                            label={"digital": "JPEG+LDPC+QAM, TB per slot",
                                   "capacity": "JPEG at capacity"}.get(scheme, scheme))
            if metric == "psnr" and channel == "awgn" and anchored in (None, ratio):
                for j, (name, points) in enumerate(ANCHORS.items()):
                    ax.plot(*zip(*points, strict=True), ls="none", marker="*", ms=11,
                            color=f"C{len(schemes) + j}", label=name)
            where = "perfect CSI" if channel == "awgn" else "LS CSI"
            ax.set(xlabel="SNR [dB]", ylabel={"psnr": "PSNR [dB]", "ms_ssim": "MS-SSIM"}[metric],
                   title=f"{channel} ({where}), {rows[0]['images']:.0f} Kodak-class photos, "
                         f"k/n = {ratio}")
            ax.legend(fontsize=7)
    fig.savefig(path, dpi=120, bbox_inches="tight")


def print_loss_table(rows: list[dict[str, Any]]) -> None:
    """The means of :func:`compare_loss`'s rows over the photos, as a Markdown table."""
    import numpy as np

    print("| channel | SNR dB | rule | PSNR dB | photos delivered | slices delivered | TBs "
          "received | error-free PSNR dB |")
    print("|---" * 8 + "|")
    for key in dict.fromkeys((r["channel"], r["snr_db"], r["loss"]) for r in rows):
        at = [r for r in rows if (r["channel"], r["snr_db"], r["loss"]) == key]
        m = {c: float(np.mean([r[c] for r in at])) for c in
             ("psnr", "delivered", "slices", "tb_ok", "error_free_psnr")}
        print(f"| {key[0]} | {key[1]:g} | {key[2]} | {m['psnr']:.2f} | "
              f"{100 * m['delivered']:.0f} % | {100 * m['slices']:.0f} % | "
              f"{100 * m['tb_ok']:.1f} % | {m['error_free_psnr']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", default=".public/kodak-class")
    parser.add_argument("--snr", default="0,5,10,15,20")
    parser.add_argument("--channels", default="awgn,tdl-c")
    parser.add_argument("--ratios", default="1/6,1/16", help="bandwidth ratios k/n")
    parser.add_argument("--photo-loss", default="photo", choices=("photo", "slice"))
    parser.add_argument("--slot-timing", default="independent",
                        choices=("independent", "consecutive"))
    parser.add_argument("--compare-loss", action="store_true")
    parser.add_argument("--tables", help="earlier kodak_class.csv files to merge (no run)")
    parser.add_argument("--out", default="runs/kodak_class")
    args = parser.parse_args()
    from psfl.data import read_photos
    from psfl.results import atomic_write_bytes

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.tables:
        report(read_rows(args.tables.split(",")), out, args.photo_loss == "slice")
        return
    photos = read_photos(args.photos, 32)
    snrs = [float(s) for s in args.snr.split(",")]
    ratios = [1 / float(r.split("/")[1]) if "/" in r else float(r) for r in args.ratios.split(",")]
    for ratio in ratios:  # a ratio the zoo lacks stops here, before any photo is sent
        for channel in args.channels.split(","):
            shipped_names(CHANNELS[channel]["channel"], ratio)
    rows: list[dict[str, Any]] = []
    if args.compare_loss:
        for channel in args.channels.split(","):
            rows.extend(compare_loss(channel, photos, snrs))
        print_loss_table(rows)
        return
    for ratio in ratios:
        for channel in args.channels.split(","):
            rows.extend(measure(channel, photos, snrs, ratio, args.photo_loss, args.slot_timing))
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(keys)] + [",".join(str(r.get(k, "")) for k in keys) for r in rows]
    atomic_write_bytes(out / "kodak_class.csv", ("\n".join(lines) + "\n").encode())
    report(rows, out, args.photo_loss == "slice")


def read_rows(files: list[str]) -> list[dict[str, Any]]:
    """The rows of earlier ``kodak_class.csv`` files (numbers as floats, empty cells left out)."""
    import csv

    def value(v: str) -> Any:
        try:
            return float(v)
        except ValueError:
            return v

    rows = []
    for name in files:
        with open(name, newline="") as f:
            rows.extend({k: value(v) for k, v in r.items() if v != ""} for r in csv.DictReader(f))
    return rows


def report(rows: list[dict[str, Any]], out: Path, slices: bool) -> None:
    """``kodak_class.png`` in ``out`` and the Markdown table of the means."""
    table = means(rows)
    draw(table, out / "kodak_class.png")
    schemes = [s for s in (*MODELS, "digital", "capacity") if any(f"{s}_psnr" in r for r in table)]
    print("| channel | k/n | SNR dB | " + " | ".join(schemes) + " | delivered |"
          + (" slices delivered |" if slices else ""))
    print("|---" * (len(schemes) + 4 + slices) + "|")
    for r in table:
        cells = ["–" if f"{s}_psnr" not in r else f"{r[f'{s}_psnr']:.2f}"
                 + (f" ({r[f'{s}_ms_ssim']:.3f})" if f"{s}_ms_ssim" in r else "") for s in schemes]
        print(f"| {r['channel']} | {r['ratio']} | {r['snr_db']:g} | " + " | ".join(cells)
              + f" | {100 * r['digital_success']:.0f} % |"
              + (f" {100 * r['digital_slices']:.0f} % |" if slices else ""))


if __name__ == "__main__":
    main()
