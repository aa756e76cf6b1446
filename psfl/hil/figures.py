"""The figures of ``psfl hil``, drawn from a :class:`~psfl.hil.session.HilSession` in
:mod:`psfl.plotting`'s style; each is written as PNG and PDF.

* ``constellation.png`` — received semantic symbols and pilots over what was sent;
* ``frames.png`` — per frame: SNR per RE (with the expected value), EVM of data and pilots,
  CFO (with the value set), missed frames shaded;
* ``images.png`` — originals, through the radio, through the simulated link (when a frame was
  detected).

Every figure carries the radio and the frames detected in its title and the settings
(:func:`~psfl.hil.session.settings_caption`) in its caption.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.hil.session import HilSession, settings_caption
from psfl.results import RunDir, mosaic

__all__ = ["constellation", "frames", "images", "write_figures"]


def write_figures(run_dir: RunDir, session: HilSession, hil: Any) -> None:
    """Every figure of the run (``hil`` is the run's :class:`~psfl.hil.config.HilConfig`)."""
    import matplotlib

    matplotlib.use("Agg")  # figures go to files only: no display needed, no window opened
    res = session.result
    title = f"{session.radio.label}: {int(res.detected.sum())}/{res.num_sent} frames detected"
    note = settings_caption(hil, session)
    constellation(run_dir, session, title, note)
    frames(run_dir, session, title, note)
    if session.decoded is not None:
        images(run_dir, session, title, note)


def _iq_axes(ax: Any, points: list[np.ndarray]) -> None:
    """I/Q labels, equal aspect and limits symmetric about 0 that hold all but the rarest
    outliers of ``points`` (a few noise spikes would otherwise shrink the cloud to a dot)."""
    flat = np.concatenate([np.abs(np.r_[p.real, p.imag]) for p in points])
    m = 1.15 * float(np.percentile(flat, 99.8)) if flat.size else 1.0
    ax.set_xlim(-m, m)
    ax.set_ylim(-m, m)
    ax.set_aspect("equal")
    ax.set_xlabel("in-phase I (normalized amplitude)")
    ax.set_ylabel("quadrature Q (normalized amplitude)")


def constellation(run_dir: RunDir, session: HilSession, title: str, note: list[str]) -> None:
    """``constellation.png``: equalized semantic symbols and pilots, received over sent."""
    from psfl.plotting import caption, color, subplots

    fmt, res, z = session.fmt, session.result, session.z
    fig, axes = subplots(1, 2, figsize=(9, 4.8))
    det = res.detected
    ys, zs = res.y[det][:, :400].reshape(-1), z[det][:, :400].reshape(-1)
    pil = list(fmt.pilot_symbols)
    ps = np.concatenate([fr.y[:, pil].reshape(-1) for fr in list(res.decoded.values())[:50]]
                        or [np.zeros(0, complex)])
    ref = np.unique(np.round(fmt.pilots.reshape(-1), 6))
    for ax, rx, tx, name in ((axes[0], ys, zs, "received"), (axes[1], ps, ref, "pilots")):
        ax.plot(rx.real, rx.imag, ".", ms=3, alpha=0.35, color=color(name))
        # Sent last and smaller (or as crosses): on top of the received cloud, still visible.
        style = {"marker": "+", "ms": 12, "mew": 1.5} if tx is ref else {"marker": ".", "ms": 1.2}
        ax.plot(tx.real, tx.imag, ls="none", color=color("sent"), **style)
        # Legend entries drawn apart: the plotted markers are too small or too large to read.
        ax.plot([], [], ".", ms=8, color=color(name), label="received (equalized)")
        ax.plot([], [], ls="none", color=color("sent"), label="sent",
                **({"marker": "+", "ms": 9, "mew": 1.5} if tx is ref else {"marker": ".", "ms": 6}))
        ax.legend(loc="best")
        _iq_axes(ax, [rx, tx])
    axes[0].set_title("semantic symbols (analog)")
    axes[1].set_title("pilots (QPSK)")
    fig.suptitle(title)
    caption(fig, note)
    run_dir.save_figure(fig, "constellation.png")


def frames(run_dir: RunDir, session: HilSession, title: str, note: list[str]) -> None:
    """``frames.png``: SNR, EVM and CFO per frame, with what was set; missed frames shaded."""
    from psfl.plotting import FAILED, caption, color, integer_ticks, si, si_axis, subplots

    plan, cfo_hz = session.plan, session.cfo_set_hz
    rows = list(session.result.frames)
    idx = [r["frame"] for r in rows]
    fig, axes = subplots(3, 1, figsize=(7, 6.6), sharex=True)
    for ax, key, lab in zip(axes, ("snr_db", "evm_db", "cfo_hz"),
                            ("SNR per RE [dB]", "EVM [dB]", "CFO"), strict=True):
        ax.plot(idx, [r[key] for r in rows], "o-", ms=3, color=color("received"),
                label="data symbols" if key == "evm_db" else "measured")
        ax.set_ylabel(lab)
    axes[1].plot(idx, [r["pilot_evm_db"] for r in rows], "s--", ms=2.5, lw=0.8,
                 color=color("pilots"), label="pilots")
    if plan is not None:
        axes[0].axhline(plan.expected_re_db, color=color("sent"), ls="--", lw=1,
                        label=f"expected ({plan.expected_re_db:.1f} dB)")
    if cfo_hz is not None:
        axes[2].axhline(cfo_hz, color=color("sent"), ls="--", lw=1,
                        label=f"set ({si(cfo_hz, 'Hz', places=1)})")
    for i, f in enumerate(r["frame"] for r in rows if not r["detected"]):
        for ax in axes:
            ax.axvspan(f - 0.5, f + 0.5, color=FAILED["color"], alpha=0.15, lw=0,
                       label="missed" if i == 0 and ax is axes[0] else None)
    for ax in axes:
        ax.legend(loc="best")
    si_axis(axes[2], "y", "Hz")
    integer_ticks(axes[-1], "x")
    axes[-1].set_xlabel("frame")
    fig.suptitle(title)
    caption(fig, note)
    run_dir.save_figure(fig, "frames.png")


def images(run_dir: RunDir, session: HilSession, title: str, note: list[str]) -> None:
    """``images.png``: up to eight detected images: originals, through the radio, simulated."""
    from psfl.plotting import caption, subplots

    if session.decoded is None:
        raise ValueError("images.png needs decoded frames; none was detected")
    summary = session.summary
    sent = session.images[np.flatnonzero(session.result.detected)]
    rec_radio, rec_sim = session.decoded
    n = min(8, len(sent))
    grid = [sent[:n], rec_radio[:n], rec_sim[:n]]
    labels = ["original", f"through the {session.radio.label}\n"
              f"PSNR {summary['psnr_radio']:.2f} dB",
              f"simulated (AWGN, LS,\n{summary['snr_db_mean']:.1f} dB per RE)\n"
              f"PSNR {summary['psnr_simulated']:.2f} dB"]
    fig, ax = subplots(figsize=(1.2 * n + 2.2, 1.2 * len(grid) + 0.5))
    ax.grid(False)
    ax.imshow(np.clip(mosaic(grid), 0, 1), interpolation="nearest")
    h = sent.shape[1] + 2
    ax.set_yticks([i * h + h / 2 for i in range(len(labels))], labels)
    ax.set_xticks([])
    ax.set_title(title)
    caption(fig, note)
    run_dir.save_figure(fig, "images.png")
