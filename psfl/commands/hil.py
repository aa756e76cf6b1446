"""``psfl hil`` — semantic frames through a radio: a real Pluto, the Pluto twin, or an emulated
front end, next to the simulated AWGN link at the SNR the receiver measured.

Images (the ``[data]`` test split, ``hil.num_frames`` of them) are encoded by a codec that is
loaded (``--checkpoint``) or trained here through :class:`psfl.phy.UplinkLink` for
``hil.train_steps`` steps (``--steps``; 0 keeps it untrained, which still compares the two
channels with the same decoder). Each image's ``k`` symbols become one OFDM frame
(:mod:`psfl.hil.waveform`), sent in cyclic TX buffers and received by
:class:`psfl.hil.receiver.Receiver`. The decoder then sees the radio's symbols and, separately,
the simulated link's symbols at the mean measured SNR (AWGN, LS estimation, same numerology).

``hil.snr_db`` (``--snr``) sets the twin's or the emulated radio's noise: per resource element
by default (``hil.snr_reference = "re"``, what the receiver measures and what ``snr_db`` means
in :class:`psfl.phy.UplinkLink`), or relative to the mean power of the whole TX waveform
(``"waveform"``), which reads a constant :func:`psfl.hil.snr.waveform_offset` higher per RE
(4.2 dB for the default numerology and k = 512). ``summary.json`` records both.

Writes ``frames.csv`` (per frame: detected, timing, CFO, SNR, EVM), ``summary.json``,
``constellation.png``, ``images.png`` (originals, through the radio, simulated),
``frames.png`` (per-frame SNR/EVM/CFO), each figure also as PDF. ``frames.csv`` grows by one
row as each frame is received, so an interrupted run (Ctrl-C, SIGTERM) keeps every frame
received so far, with a one-line account of them in ``log.txt``. If the radio goes away mid-run,
everything received until then is written and the command fails with one line naming the
problem.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from psfl.config import Config
from psfl.hil.snr import SNR_REFERENCES, SnrPlan
from psfl.results import RunDir, atomic_write_bytes, csv_text, jsonable, mosaic

HELP = ("Send images as OFDM frames through an SDR (pluto | twin | emulated) and compare with "
        "the simulated link at the measured SNR.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", choices=("pluto", "twin", "emulated"),
                        help="radio back end (default hil.radio)")
    parser.add_argument("--uri", help="libiio URI of the Pluto, e.g. ip:192.168.2.1 or "
                                      "usb:1.2.5 (find it with `iio_info -s`)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="trained codec (.keras) or a shipped one, pretrained:NAME (e.g. "
                             "pretrained:csc-rayleigh; default hil.checkpoint, the shipped AWGN "
                             "CSC)")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="train a codec here for N steps instead of using a checkpoint "
                             "(0 = untrained)")
    parser.add_argument("--frames", type=int, metavar="N",
                        help="frames (images) to send (default hil.num_frames)")
    parser.add_argument("--snr", type=float, metavar="DB",
                        help="twin/emulated SNR in dB per resource element, as the receiver "
                             "measures it (default hil.snr_db); with --snr-reference waveform "
                             "relative to the mean power of the whole TX waveform (guard, CP, "
                             "empty subcarriers and REs included), which reads 4.2 dB higher "
                             "per RE at the default numerology and k = 512")
    parser.add_argument("--snr-reference", choices=SNR_REFERENCES,
                        help="what --snr is relative to: re (one resource element) or waveform "
                             "(default hil.snr_reference)")
    parser.add_argument("--cfo", type=float, metavar="SPACINGS",
                        help="twin/emulated CFO in subcarrier spacings")
    parser.add_argument("--twin-drop-after", type=int, metavar="N", help=argparse.SUPPRESS)


def _shortcuts(args: argparse.Namespace, config: Config) -> Config:
    hil: dict[str, Any] = {}
    for arg, key in (("radio", "radio"), ("uri", "uri"), ("checkpoint", "checkpoint"),
                     ("steps", "train_steps"), ("frames", "num_frames"), ("snr", "snr_db"),
                     ("cfo", "cfo_subcarriers"), ("snr_reference", "snr_reference")):
        v = getattr(args, arg)
        if v is not None:
            hil[key] = v
    if args.uri and not args.radio:
        hil["radio"] = "pluto"
    if args.steps is not None and args.checkpoint is None:
        hil["checkpoint"] = ""  # --steps N: train here instead of the shipped codec
    return config.replace("hil", **hil) if hil else config


class _FramesCsv:
    """``frames.csv`` written row by row, so that a run stopped at any point keeps its frames.

    After every :meth:`append` the file on disk holds exactly what
    :meth:`RunDir.write_csv <psfl.results.RunDir.write_csv>` would write for the rows so far:
    columns are the union of keys in first-seen order, missing keys are left empty, values are
    converted alike (NaN becomes empty). A row bringing a key not seen before rewrites the file
    with the wider header (atomically); otherwise the row is appended and flushed.

    Parameters
    ----------
    path : Path
        The file; whatever it held is replaced on the first :meth:`append` (an earlier run's
        file has been versioned by :class:`~psfl.results.RunDir`).

    Attributes
    ----------
    rows : list of dict
        The rows appended so far, converted as written.
    """

    def __init__(self, path: Path):
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self._fields: list[str] = []
        self._out: tuple[TextIO, csv.DictWriter] | None = None

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one frame's row to the file and flush it."""
        # The conversion write_csv applies, so that the appended file equals the one it wrote.
        row = {k: jsonable(v) for k, v in row.items()}
        new = [k for k in row if k not in self._fields]
        if new or self._out is None:
            self._fields += new
            self._rewrite([*self.rows, row])
        else:
            file, writer = self._out
            writer.writerow(row)
            file.flush()
        # Counted once on disk: an interrupt in between leaves rows short, never the file.
        self.rows.append(row)

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        self.close()
        atomic_write_bytes(self.path, csv_text(rows, self._fields).encode("utf-8"))
        # newline="": the csv module writes its own \r\n, as write_csv's StringIO keeps it.
        file = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._out = file, csv.DictWriter(file, fieldnames=self._fields)

    def close(self) -> None:
        """Close the file (a no-op before the first row or when closed)."""
        if self._out is not None:
            self._out[0].close()
            self._out = None


def _power_mean_db(values_db: list[float]) -> float:
    """The mean of SNRs in dB taken in power (the log line and summary.json's snr_db_mean)."""
    return float(10 * np.log10(np.mean([10 ** (v / 10) for v in values_db])))


def _frames_line(rows: list[dict[str, Any]], total: int) -> str:
    """One line on the frames received so far, for ``log.txt`` when a run is interrupted."""
    det = [r for r in rows if r.get("detected")]
    line = f"{len(rows)}/{total} frames sent, {len(det)} detected"
    snr = [r["snr_db"] for r in det if r.get("snr_db") is not None]
    evm = [r["evm_db"] for r in det if r.get("evm_db") is not None]
    if snr:
        line += f", SNR {_power_mean_db(snr):.1f} dB"
    if evm:
        line += f", EVM {np.mean(evm):.1f} dB"
    return line


#: How each radio reads in titles, captions and the log.
RADIO_NAMES = {"pluto": "ADALM-Pluto", "twin": "Pluto twin", "emulated": "emulated front end"}


def _hz(value: float) -> str:
    """A frequency with its unit at a readable precision: ``12.3 Hz``, ``90.00 kHz``."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3f} MHz"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.2f} kHz"
    return f"{value:.1f} Hz"


def _duration(seconds: float) -> str:
    """A time with its unit: ``4.2 ms`` under a second, ``12.34 s`` above."""
    return f"{seconds * 1e3:.1f} ms" if abs(seconds) < 1 else f"{seconds:.2f} s"


def _cfo_set_hz(hil: Any, scs_hz: float) -> float | None:
    """The carrier offset the run asks for [Hz] (:func:`psfl.hil.radios.set_cfo_hz`), or
    ``None`` for a real Pluto without an intentional LO offset."""
    from psfl.hil.radios import set_cfo_hz

    cfo = set_cfo_hz(hil, scs_hz)
    return None if hil.radio == "pluto" and cfo == 0 else cfo


def _caption(hil: Any, plan: SnrPlan | None, cfo_hz: float | None,
             summary: Mapping[str, Any]) -> list[str]:
    """The settings a reader needs to repeat a figure: radio, set SNR, CFO, frames, codec."""
    parts = [RADIO_NAMES[hil.radio] + (f" at {hil.uri}" if hil.radio == "pluto" else "")]
    if plan is not None:
        parts.append(f"SNR set {plan.label()}")
    if cfo_hz is not None:
        parts.append(f"CFO set {_hz(cfo_hz)}")
    parts.append(f"{hil.num_frames} frames of k = {summary['k']} symbols")
    if summary.get("checkpoint"):
        parts.append(f"codec {summary['checkpoint']}")
    else:
        steps = summary.get("trained_steps", 0)
        parts.append(f"codec {summary.get('model', '')}, "
                     + (f"{steps} training steps" if steps else "untrained"))
    return parts


def _result_line(name: str, summary: Mapping[str, Any], plan: SnrPlan | None) -> str:
    """The run in one line with units (``log.txt`` and stderr)."""
    line = f"{name}: {summary['frames_detected']}/{summary['frames_sent']} frames detected"
    if summary.get("snr_db_mean") is not None:
        line += f", SNR {summary['snr_db_mean']:.1f} dB per RE measured"
    if plan is not None:
        line += f" (set {plan.label()})"
    if summary.get("evm_db_mean") is not None:
        line += f", EVM {summary['evm_db_mean']:.1f} dB, CFO {_hz(summary['cfo_hz_mean'])}"
    if summary.get("psnr_radio") is not None:
        line += (f", PSNR {summary['psnr_radio']:.2f} dB "
                 f"(simulated link {summary['psnr_simulated']:.2f} dB)")
    if summary.get("frames_sent"):
        line += (f", receiver {_duration(summary['receiver_s'])} for "
                 f"{_duration(summary['frames_sent'] * summary['frame_airtime_s'])} of air time")
    return line


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


def _constellation(run_dir: RunDir, fmt: Any, res: Any, z: np.ndarray, title: str,
                   note: list[str]) -> None:
    from psfl.plotting import caption, color, subplots

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


def _frames_figure(run_dir: RunDir, res: Any, plan: SnrPlan | None, cfo_hz: float | None,
                   title: str, note: list[str]) -> None:
    from psfl.plotting import FAILED, caption, color, integer_ticks, si_axis, subplots

    rows = list(res.frames)
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
        axes[2].axhline(cfo_hz, color=color("sent"), ls="--", lw=1, label=f"set ({_hz(cfo_hz)})")
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


def _images_figure(run_dir: RunDir, images: np.ndarray, rec_radio: np.ndarray,
                   rec_sim: np.ndarray | None, name: str, summary: Mapping[str, Any],
                   title: str, note: list[str]) -> None:
    from psfl.plotting import caption, subplots

    n = min(8, len(images))
    grid = [images[:n], rec_radio[:n]]
    labels = ["original", f"through the {name}\nPSNR {summary['psnr_radio']:.2f} dB"]
    if rec_sim is not None:
        grid.append(rec_sim[:n])
        labels.append(f"simulated (AWGN, LS,\n{summary['snr_db_mean']:.1f} dB per RE)\n"
                      f"PSNR {summary['psnr_simulated']:.2f} dB")
    fig, ax = subplots(figsize=(1.2 * n + 2.2, 1.2 * len(grid) + 0.5))
    ax.grid(False)
    ax.imshow(np.clip(mosaic(grid), 0, 1), interpolation="nearest")
    h = images.shape[1] + 2
    ax.set_yticks([i * h + h / 2 for i in range(len(labels))], labels)
    ax.set_xticks([])
    ax.set_title(title)
    caption(fig, note)
    run_dir.save_figure(fig, "images.png")


def _codec(config: Config, sim_cfg: Any, run_dir: RunDir,
           summary: dict[str, Any]) -> tuple[Any, Any]:
    """The codec (loaded from ``hil.checkpoint`` or built and trained here through the
    simulated link) and the test split it sends; records how in ``summary``."""
    from psfl.data import load_images
    from psfl.phy import UplinkLink
    from psfl.semantic.models import build_codec, load_codec

    hil, seed = config.hil, config.run.seed
    if hil.checkpoint:
        codec = load_codec(hil.checkpoint, compile=False)  # pretrained:NAME: the AWGN variant
        data_cfg = config.data
        if data_cfg.patch_size != codec.image_size[0]:
            data_cfg = config.replace("data", patch_size=codec.image_size[0]).data
        _, test = load_images(data_cfg, seed=seed)
        summary.update(checkpoint=hil.checkpoint, trained_steps=0)
    else:
        train, test = load_images(config.data, seed=seed)
        codec = build_codec(hil.model, image_size=config.data.patch_size,
                            k=config.semantic.k or None, k_over_n=config.semantic.k_over_n)
        if hil.train_steps:
            from psfl.semantic.train import train_codec

            run_dir.log(f"training {codec.describe()} for {hil.train_steps} steps "
                        f"(AWGN, LS, SNR {hil.train_snr_db[0]:.1f} to {hil.train_snr_db[1]:.1f}"
                        " dB per RE)",
                        echo=True)
            result = train_codec(codec, UplinkLink(sim_cfg), train.images,
                                 steps=hil.train_steps, batch_size=config.semantic.batch_size,
                                 learning_rate=config.semantic.learning_rate,
                                 lr_schedule=config.semantic.lr_schedule,
                                 snr_db_range=tuple(hil.train_snr_db),
                                 checkpoint_dir=run_dir.file("checkpoints"),
                                 jit_compile=config.semantic.xla, seed=seed, log=run_dir.log)
            codec = result.codec
        summary.update(trained_steps=hil.train_steps, model=codec.arch)
    return codec, test


def _decode(codec: Any, sim_cfg: Any, images: np.ndarray, res: Any, z: np.ndarray,
            sel: np.ndarray, summary: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The detected frames decoded from the radio's symbols and from the simulated link's at
    the mean measured SNR; their PSNR/SSIM go into ``summary``."""
    import tensorflow as tf

    from psfl.phy import UplinkLink
    from psfl.semantic.metrics import image_metrics, mean_metrics

    rec_radio = codec.decode(res.y[sel], res.no_eff[sel]).numpy()
    m = mean_metrics(image_metrics(images, rec_radio))
    summary.update(psnr_radio=m["psnr"], ssim_radio=m["ssim"])
    y_sim, no_sim = UplinkLink(sim_cfg)(tf.constant(z[sel]), summary["snr_db_mean"])
    rec_sim = codec.decode(y_sim, no_sim).numpy()
    m = mean_metrics(image_metrics(images, rec_sim))
    summary.update(psnr_simulated=m["psnr"], ssim_simulated=m["ssim"],
                   simulated_link="awgn, LS estimation, at snr_db_mean")
    return rec_radio, rec_sim


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _shortcuts(args, config)
    run_dir.write_config(config)
    hil, seed = config.hil, config.run.seed

    from psfl.hil.link import HilLink
    from psfl.hil.radios import RadioError, open_radio
    from psfl.hil.snr import snr_plan
    from psfl.hil.waveform import FrameFormat
    from psfl.phy import PhyConfig
    from psfl.results import progress

    phy = dict(config.to_dict()["phy"])
    phy.update(channel="awgn", csi="ls", pilot_pattern="kronecker")
    sim_cfg = PhyConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in phy.items()})
    summary: dict[str, Any] = {"radio": hil.radio}
    codec, test = _codec(config, sim_cfg, run_dir, summary)
    if len(test.images) == 0:
        raise ValueError("the [data] test split is empty; lower data.test_fraction's cap or "
                         "use more images")
    reps = int(np.ceil(hil.num_frames / len(test.images)))
    images = np.concatenate([test.images] * reps)[: hil.num_frames]
    summary.update(k=codec.k, image_size=list(codec.image_size), frames=hil.num_frames)

    # -- radio ------------------------------------------------------------------------------
    fmt = FrameFormat(sim_cfg, codec.k, guard=hil.guard_samples or None,
                      sample_rate_hz=hil.sample_rate_hz or None)
    summary.update(sample_rate_hz=fmt.sample_rate_hz, scs_hz=fmt.scs_hz,
                   frame_samples=fmt.frame_len, frame_airtime_s=fmt.airtime_s,
                   slots_per_frame=fmt.num_slots)
    # A real Pluto's SNR is whatever the cable and gains give; only twin/emulated set one.
    plan = None if hil.radio == "pluto" else snr_plan(fmt, hil.snr_db, hil.snr_reference)
    if plan is not None:
        summary.update(plan.summary())
        run_dir.log(f"{RADIO_NAMES[hil.radio]}: {plan.describe()}")
        run_dir.log(plan.breakdown(fmt))
    # The codec's SNR input means UplinkLink's per-RE SNR, whichever reference set it.
    z = codec.encode(images, hil.snr_db if plan is None else plan.expected_re_db).numpy()
    twin_kwargs = ({"drop_after_reads": args.twin_drop_after}
                   if getattr(args, "twin_drop_after", None) is not None else None)
    radio = open_radio(hil, fmt.sample_rate_hz, fmt.scs_hz, seed=seed, twin_kwargs=twin_kwargs,
                       snr_db=None if plan is None else plan.radio_db)
    summary["radio_settings"] = radio.describe()
    link = HilLink(radio, fmt, backoff_db=hil.backoff_db,
                   frames_per_buffer=hil.frames_per_buffer, max_captures=hil.max_captures,
                   auto_buffer=hil.rx_buffer_size == 0,
                   receiver_kwargs={"max_cfo_subcarriers": hil.max_cfo_subcarriers,
                                    "threshold": hil.detection_threshold})
    error: RadioError | None = None
    bar = progress(total=hil.num_frames, desc=f"hil {hil.radio}", unit="frame")
    frames_csv = _FramesCsv(run_dir.file("frames.csv"))

    def on_frame(info: dict[str, Any]) -> None:
        frames_csv.append(info)
        bar.update(1)

    try:
        res = link.run(z, on_frame=on_frame)
    except RadioError as exc:
        error = exc
        res = exc.result  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        # The CLI logs "interrupted" and exits; what was received is on disk already.
        run_dir.log(f"interrupted after {_frames_line(frames_csv.rows, hil.num_frames)}; "
                    "frames.csv holds them")
        raise
    finally:
        frames_csv.close()
        bar.close()
        radio.close()
    if not frames_csv.rows:
        # A radio lost before its first frame: an empty frames.csv, as before, rather than an
        # earlier run's file next to this run's summary.
        run_dir.write_csv("frames.csv", [])

    # -- metrics ----------------------------------------------------------------------------
    det = res.detected
    sent = res.num_sent
    rows = [f for f in res.frames if f["detected"]]
    summary.update(
        frames_sent=sent, frames_detected=int(det.sum()),
        detection_rate=float(det[:sent].mean()) if sent else 0.0,
        snr_db_mean=_power_mean_db([r["snr_db"] for r in rows]) if rows else None,
        evm_db_mean=float(np.mean([r["evm_db"] for r in rows])) if rows else None,
        cfo_hz_mean=float(np.mean([r["cfo_hz"] for r in rows])) if rows else None,
        tx_clip_fraction=res.clip_fraction, receiver_s=res.dsp_s,
        receiver_realtime_factor=(res.dsp_s / (sent * fmt.airtime_s)) if sent else None)
    import matplotlib

    matplotlib.use("Agg")  # figures go to files only: no display needed, no window opened
    name = RADIO_NAMES[hil.radio]
    title = f"{name}: {int(det.sum())}/{sent} frames detected"
    cfo_hz = _cfo_set_hz(hil, fmt.scs_hz)
    note = _caption(hil, plan, cfo_hz, summary)
    _constellation(run_dir, fmt, res, z, title, note)
    _frames_figure(run_dir, res, plan, cfo_hz, title, note)
    if rows:
        sel = np.flatnonzero(det)
        rec_radio, rec_sim = _decode(codec, sim_cfg, images[sel], res, z, sel, summary)
        _images_figure(run_dir, images[sel], rec_radio, rec_sim, name, summary, title, note)
    run_dir.log(_result_line(name, summary, plan), echo=True)
    if error is not None:
        summary.update(error=str(error), command="hil")
        run_dir.write_summary(summary)
        raise error
    return summary
