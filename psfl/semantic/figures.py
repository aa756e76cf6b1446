"""Figures of a codec evaluation (``psfl link``, ``psfl demo``): PSNR against SNR of codecs
beside the digital baseline, sample receptions, and photos stitched back from their tiles.

All in the one style of :mod:`psfl.plotting`; each is written as PNG and PDF through
:meth:`psfl.results.RunDir.save_figure`. They draw the rows of
:func:`psfl.semantic.evaluate.sweep` (columns ``<label>_psnr``, ``digital_psnr``,
``digital_success``, ``capacity_psnr``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.results import RunDir, mosaic

__all__ = ["N_SHOW", "link_caption", "photo_overview", "psnr_vs_snr", "samples"]

#: Test patches shown per row of samples.png.
N_SHOW = 6


def psnr_vs_snr(run_dir: RunDir, rows: Sequence[Mapping[str, Any]], x: Sequence[float], *,
                codecs: Mapping[str, str], datasets: Sequence[str], baseline: str | None,
                xlabel: str, title: str, caption: Sequence[str],
                name: str = "psnr_vs_snr.png", every: bool = False) -> None:
    """PSNR against the sweep ``x``: each codec (column prefix → legend label, coloured by its
    label), the baseline (legend ``baseline``; None: not drawn) with its lost images crossed and
    the delivered share written (``every``: under every point), and the source coders at
    capacity where the rows have them. One line style per data set, named in the legend when
    there are several."""
    from psfl.plotting import caption as put_caption
    from psfl.plotting import color, linestyle, mark_delivery, subplots

    fig, ax = subplots(figsize=(6.4, 4.2))
    failed_shown = False
    for ds in datasets:
        sel = [r for r in rows if r["dataset"] == ds]
        ls = linestyle(ds)
        tag = f" ({ds})" if len(datasets) > 1 else ""
        for key, legend in codecs.items():
            ax.plot(x, [r[f"{key}_psnr"] for r in sel], marker="o", ls=ls, color=color(legend),
                    label=legend + tag)
        if baseline is not None:
            y = [r["digital_psnr"] for r in sel]
            ax.plot(x, y, marker="s", ls=ls, color=color("digital"), label=baseline + tag)
            failed_shown |= mark_delivery(ax, x, y, [r["digital_success"] for r in sel],
                                          every=every, legend=not failed_shown)
        if "capacity_psnr" in sel[0]:
            ax.plot(x, [r["capacity_psnr"] for r in sel], ls=":", color=color("capacity"),
                    label="source coders at capacity" + tag)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR [dB]")
    ax.margins(y=0.1 if every else 0.08)  # room for the delivery labels under the points
    ax.set_title(title)
    ax.legend()
    put_caption(fig, list(caption))
    run_dir.save_figure(fig, name)


def samples(run_dir: RunDir, originals: np.ndarray,
            received: Mapping[tuple[str, float], np.ndarray],
            failed: Mapping[float, np.ndarray], snrs: Sequence[float], *,
            labels: Mapping[str, str], title: str) -> None:
    """samples.png: the first :data:`N_SHOW` originals, then their receptions by each scheme
    (``received[(scheme, snr)]``; ``labels``: scheme → row label) at the lowest, middle and
    highest SNR, the baseline's failed decodes (``failed[snr]``) crossed out."""
    from psfl.plotting import caption, mark_failed_tiles, subplots

    picks = list(dict.fromkeys([snrs[0], snrs[len(snrs) // 2], snrs[-1]]
                               if len(snrs) >= 3 else snrs))
    grid_rows, names, failed_rows = [originals[:N_SHOW]], ["original"], []
    for snr in picks:
        for scheme, label in labels.items():
            if scheme == "digital":
                failed_rows.append((len(grid_rows), failed[snr][:N_SHOW]))
            grid_rows.append(received[(scheme, snr)][:N_SHOW])
            names.append(f"{label} {snr:g} dB")
    fig, ax = subplots(figsize=(1.2 * N_SHOW + 1.5, 1.2 * len(grid_rows)))
    ax.grid(False)
    ax.imshow(np.clip(mosaic(grid_rows), 0, 1), interpolation="nearest")
    h = originals.shape[1]
    crossed = sum(mark_failed_tiles(ax, f, tile=h, row=r) for r, f in failed_rows)
    ax.set_yticks([i * (h + 2) + h / 2 for i in range(len(names))], names)
    ax.set_xticks([])
    ax.set_title(title)
    if failed_rows:
        caption(fig, f"crossed out: the digital baseline's CRC failed ({crossed} of the tiles "
                "shown); the receiver then shows its fallback tile")
    run_dir.save_figure(fig, "samples.png")


def photo_overview(run_dir: RunDir, index: int, photo: Any,
                   stitched: Mapping[tuple[str, float], tuple[np.ndarray, float,
                                                             np.ndarray | None]],
                   snrs: Sequence[float], *, labels: Mapping[str, str],
                   offset_db: float = 0.0) -> None:
    """For photo number ``index``: the full-resolution reconstructions
    ``photos/<index>-<scheme>-<snr>dB.png`` and ``photo-<index>.png`` (the original beside each
    scheme at each SNR of ``snrs``, the tiles the baseline failed to decode crossed out).
    ``stitched[(scheme, snr)]`` = (image, PSNR, failed tiles or None)."""
    from PIL import Image

    from psfl.plotting import mark_failed_tiles, subplots
    from psfl.results import atomic_write_bytes

    folder = run_dir.file("photos")
    folder.mkdir(exist_ok=True)
    schemes = list(dict.fromkeys(s for s, _ in stitched))
    picked = list(dict.fromkeys(snrs))
    h, w = photo.image.shape[:2]
    fig, axes = subplots(len(schemes), 1 + len(picked), squeeze=False,
                         figsize=(3.6 * (1 + len(picked)),
                                  3.6 * len(schemes) * h / w + 0.5 * len(schemes)))
    for ax in axes.flat:
        ax.axis("off")
    _show(axes[0, 0], photo.image)
    axes[0, 0].set_title(f"original ({w}×{h} px, {photo.num_tiles} tiles)")
    for r, scheme in enumerate(schemes):
        for c, snr in enumerate(picked, start=1):
            img, psnr, failed = stitched[(scheme, snr)]
            buf = io.BytesIO()
            # level 1: a 4-MP photo in a fifth of the default level's time, 10-20 % larger
            Image.fromarray(np.round(img * 255).astype(np.uint8)).save(buf, format="PNG",
                                                                       compress_level=1)
            atomic_write_bytes(folder / f"{index}-{scheme}-{snr + offset_db:g}dB.png",
                               buf.getvalue())
            _show(axes[r, c], img)
            title = f"{labels[scheme]}, {snr + offset_db:g} dB: PSNR {psnr:.1f} dB"
            if failed is not None:
                mark_failed_tiles(axes[r, c], failed, tile=h // photo.grid[0], pad=0,
                                  cols=photo.grid[1])
                title += f"\n{int(failed.sum())} of {failed.size} tiles lost (crossed)"
            axes[r, c].set_title(title)
    fig.suptitle(photo.name)
    run_dir.save_figure(fig, f"photo-{index}.png")


def _show(ax: Any, img: np.ndarray, width: int = 1080) -> None:
    """``img`` on ``ax``, box-filtered down to at most ``width`` columns first (a panel of
    photo_overview is about 540 px wide at 150 dpi): matplotlib's antialiasing and the PDF would
    otherwise work on every pixel of a many-megapixel photo, seconds per panel. The axes keep the
    photo's pixel coordinates, so crossed-out tiles land where they were."""
    h, w = img.shape[:2]
    shown = img
    if w > width:
        from PIL import Image

        size = (width, max(1, round(h * width / w)))
        shown = np.stack([np.asarray(Image.fromarray(img[..., c].astype(np.float32))
                                     .resize(size, Image.Resampling.BOX))
                          for c in range(img.shape[2])], axis=-1)
    ax.imshow(np.clip(shown, 0.0, 1.0), interpolation="antialiased",
              extent=(-0.5, w - 0.5, h - 0.5, -0.5))


def link_caption(summary: dict[str, Any], rows: Sequence[Mapping[str, Any]],
                 eval_sets: Mapping[str, np.ndarray], config: Config) -> list[str]:
    """The caption of psnr_vs_snr: the codec's training budget, what was evaluated and the
    share of images the baseline delivered."""
    from psfl.semantic.zoo import PREFIX, provenance, resolve

    sem, ckpt = config.semantic, str(summary.get("checkpoint", ""))
    if summary.get("trained_steps"):
        budget = (f"trained here: {summary['trained_steps']} steps × batch {sem.batch_size}, "
                  f"SNR {config.phy.snr_db_min:g}–{config.phy.snr_db_max:g} dB")
    elif ckpt.startswith(PREFIX):
        prov = provenance(resolve(ckpt, config.phy.channel, k_over_n=sem.k_over_n))
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
