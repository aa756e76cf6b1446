"""``psfl hil`` — semantic frames through a radio: a real Pluto, the Pluto twin, or an emulated
front end, next to the simulated AWGN link at the SNR the receiver measured.

Images (the ``[data]`` test split, ``hil.num_frames`` of them) are encoded by a codec that is
loaded (``--checkpoint``) or trained here through :class:`psfl.phy.UplinkLink` for
``hil.train_steps`` steps (``--steps``; 0 keeps it untrained, which still compares the two
channels with the same decoder). Each image's ``k`` symbols become one OFDM frame
(:mod:`psfl.hil.waveform`), sent in cyclic TX buffers and received by
:class:`psfl.hil.receiver.Receiver`. The decoder then sees the radio's symbols and, separately,
the simulated link's symbols at the mean measured SNR (AWGN, LS estimation, same numerology).

Writes ``frames.csv`` (per frame: detected, timing, CFO, SNR, EVM), ``summary.json``,
``constellation.png``, ``images.png`` (originals, through the radio, simulated),
``frames.png`` (per-frame SNR/EVM/CFO). ``frames.csv`` grows by one row as each frame is
received, so an interrupted run (Ctrl-C, SIGTERM) keeps every frame received so far, with a
one-line account of them in ``log.txt``. If the radio goes away mid-run, everything received
until then is written and the command fails with one line naming the problem.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from psfl.config import Config
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
                             "pretrained:csc, the AWGN variant; pretrained:csc-rayleigh); "
                             "without it a small codec is trained")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="training budget when no checkpoint is given (default "
                             "hil.train_steps; 0 = untrained)")
    parser.add_argument("--frames", type=int, metavar="N",
                        help="frames (images) to send (default hil.num_frames)")
    parser.add_argument("--snr", type=float, metavar="DB",
                        help="twin/emulated SNR in dB (default hil.snr_db)")
    parser.add_argument("--cfo", type=float, metavar="SPACINGS",
                        help="twin/emulated CFO in subcarrier spacings")
    parser.add_argument("--twin-drop-after", type=int, metavar="N", help=argparse.SUPPRESS)


def _shortcuts(args: argparse.Namespace, config: Config) -> Config:
    hil: dict[str, Any] = {}
    for arg, key in (("radio", "radio"), ("uri", "uri"), ("checkpoint", "checkpoint"),
                     ("steps", "train_steps"), ("frames", "num_frames"), ("snr", "snr_db"),
                     ("cfo", "cfo_subcarriers")):
        v = getattr(args, arg)
        if v is not None:
            hil[key] = v
    if args.uri and not args.radio:
        hil["radio"] = "pluto"
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


def _plots(run_dir: RunDir, fmt: Any, res: Any, z: np.ndarray, images: np.ndarray,
           rec_radio: np.ndarray | None, rec_sim: np.ndarray | None, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    det = res.detected
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    ax = axes[0]
    if det.any():
        ys = res.y[det][:, :400].reshape(-1)
        zs = z[det][:, :400].reshape(-1)
        ax.plot(zs.real, zs.imag, ".", ms=2, alpha=0.4, color="0.6", label="sent")
        ax.plot(ys.real, ys.imag, ".", ms=2, alpha=0.5, label="received")
        ax.legend(fontsize=8, markerscale=4)
    ax.set_title("semantic symbols (analog)")
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    ax = axes[1]
    pil = list(fmt.pilot_symbols)
    for fr in list(res.decoded.values())[:50]:
        p = fr.y[:, pil].reshape(-1)
        ax.plot(p.real, p.imag, ".", ms=2, color="C1", alpha=0.3)
    ax.set_title("equalized pilots (QPSK)")
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    run_dir.save_figure(fig, "constellation.png")

    rows = list(res.frames)
    fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    idx = [r["frame"] for r in rows]
    for ax, key, lab in zip(axes, ("snr_db", "evm_db", "cfo_hz"),
                            ("SNR [dB]", "EVM [dB]", "CFO [Hz]"), strict=True):
        ax.plot(idx, [r[key] for r in rows], "o-", ms=3)
        ax.set_ylabel(lab)
        ax.grid(True, alpha=0.3)
    miss = [r["frame"] for r in rows if not r["detected"]]
    if miss:
        axes[0].plot(miss, [np.nanmin([r["snr_db"] for r in rows] or [0])] * len(miss), "rx",
                     label="missed")
        axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("frame")
    fig.suptitle(title)
    run_dir.save_figure(fig, "frames.png")

    if rec_radio is not None:
        n = min(8, len(images))
        grid = [images[:n], rec_radio[:n]] + ([rec_sim[:n]] if rec_sim is not None else [])
        labels = ["original", "radio"] + (["simulated"] if rec_sim is not None else [])
        fig, ax = plt.subplots(figsize=(1.2 * n + 1.5, 1.3 * len(grid)))
        ax.imshow(np.clip(mosaic(grid), 0, 1), interpolation="nearest")
        h = images.shape[1] + 2
        ax.set_yticks([i * h + h / 2 for i in range(len(labels))], labels, fontsize=8)
        ax.set_xticks([])
        ax.set_title(title)
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
                        f"(AWGN, LS, SNR {hil.train_snr_db[0]}..{hil.train_snr_db[1]} dB)",
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


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _shortcuts(args, config)
    run_dir.write_config(config)
    hil, seed = config.hil, config.run.seed

    from psfl.hil.link import HilLink
    from psfl.hil.radios import RadioError, open_radio
    from psfl.hil.waveform import FrameFormat
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.results import progress
    from psfl.semantic.metrics import image_metrics, mean_metrics

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
    z = codec.encode(images, hil.snr_db).numpy()
    twin_kwargs = ({"drop_after_reads": args.twin_drop_after}
                   if getattr(args, "twin_drop_after", None) is not None else None)
    radio = open_radio(hil, fmt.sample_rate_hz, fmt.scs_hz, seed=seed, twin_kwargs=twin_kwargs)
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
    rec_radio = rec_sim = None
    if rows:
        sel = np.flatnonzero(det)
        rec_radio = codec.decode(res.y[sel], res.no_eff[sel]).numpy()
        m = mean_metrics(image_metrics(images[sel], rec_radio))
        summary.update(psnr_radio=m["psnr"], ssim_radio=m["ssim"])
        import tensorflow as tf

        y_sim, no_sim = UplinkLink(sim_cfg)(tf.constant(z[sel]), summary["snr_db_mean"])
        rec_sim = codec.decode(y_sim, no_sim).numpy()
        m = mean_metrics(image_metrics(images[sel], rec_sim))
        summary.update(psnr_simulated=m["psnr"], ssim_simulated=m["ssim"],
                       simulated_link="awgn, LS estimation, at snr_db_mean")
        images_shown = images[sel]
    else:
        images_shown = images
    title = f"{hil.radio}: {int(det.sum())}/{sent} frames"
    _plots(run_dir, fmt, res, z, images_shown, rec_radio, rec_sim, title)
    run_dir.log(f"{title}, SNR {summary['snr_db_mean']}, EVM {summary['evm_db_mean']}",
                echo=True)
    if error is not None:
        summary.update(error=str(error), command="hil")
        run_dir.write_summary(summary)
        raise error
    return summary
