"""One ``psfl hil`` run as a library function: images → codec → OFDM frames → radio → receiver
→ decoder, beside the simulated link at the SNR the receiver measured.

:func:`run_session` does the work and returns a :class:`HilSession` (the summary, what was
sent and received, the decoded images); :mod:`psfl.hil.figures` draws it and
:mod:`psfl.commands.hil` only parses, calls and writes. Order of the work:

1. the codec: loaded from ``hil.checkpoint`` or built and trained through the simulated link
   for ``hil.train_steps`` steps (:func:`codec_and_images`), and ``hil.num_frames`` test images
   (the split repeated as needed);
2. the frame format (:class:`~psfl.hil.waveform.FrameFormat`) and, for a radio that sets its
   own SNR, the :func:`~psfl.hil.snr.snr_plan` of ``hil.snr_db``; the images encoded at the
   per-RE SNR the receiver is expected to measure;
3. the radio (:func:`~psfl.hil.radios.open_radio`) and :class:`~psfl.hil.link.HilLink`;
   ``frames.csv`` grows by one row per received frame (:class:`FramesCsv`), so a run stopped
   at any point keeps its frames; a radio lost mid-run ends the transmission with what was
   received (the error is returned, not raised);
4. per-run measures (detection rate, SNR as a power mean, EVM, CFO, receiver time) and the
   detected frames decoded from the radio's symbols and from the simulated link's (AWGN, LS
   estimation, same numerology) at the mean measured SNR.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from psfl.config import Config
from psfl.hil.radios.registry import Radio, RadioError, radio_class
from psfl.hil.snr import SnrPlan
from psfl.results import RunDir, atomic_write_bytes, csv_text, duration, jsonable

__all__ = ["FramesCsv", "HilSession", "codec_and_images", "frames_line", "power_mean_db",
           "result_line", "run_session", "settings_caption"]


class FramesCsv:
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


@dataclasses.dataclass
class HilSession:
    """What one run sent, received and measured (the input of :mod:`psfl.hil.figures`).

    Attributes
    ----------
    summary : dict
        ``summary.json``'s content (no ``error`` key: the command adds it).
    radio : type[Radio]
        The radio's class (its label and capabilities).
    fmt : FrameFormat
        The frame format on the air.
    result : HilResult
        The received frames (symbols, detection, per-frame rows).
    z : [num_frames, k], complex
        The symbols sent.
    images : [num_frames, H, W, 3], float
        The images sent.
    plan : SnrPlan or None
        The SNR set, for a radio that :attr:`~psfl.hil.radios.Radio.sets_own_snr`.
    cfo_set_hz : float or None
        The carrier offset asked for (:meth:`~psfl.hil.radios.Radio.cfo_set_hz`).
    decoded : (rec_radio, rec_sim) or None
        The detected frames decoded from the radio's and from the simulated link's symbols
        (``None`` when no frame was detected).
    error : RadioError or None
        The radio lost mid-run.
    """

    summary: dict[str, Any]
    radio: type[Radio]
    fmt: Any
    result: Any
    z: np.ndarray
    images: np.ndarray
    plan: SnrPlan | None
    cfo_set_hz: float | None
    decoded: tuple[np.ndarray, np.ndarray] | None
    error: RadioError | None


def simulated_phy(config: Config) -> Any:
    """``[phy]`` as the simulated comparison link: AWGN, LS estimation, Kronecker pilots."""
    from psfl.phy import PhyConfig

    phy = dict(config.to_dict()["phy"])
    phy.update(channel="awgn", csi="ls", pilot_pattern="kronecker")
    return PhyConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in phy.items()})


def codec_and_images(config: Config, sim_cfg: Any, run_dir: RunDir,
                     summary: dict[str, Any]) -> tuple[Any, Any]:
    """The codec (loaded from ``hil.checkpoint`` as it is — ``pretrained:NAME`` is the AWGN
    variant — or a fresh ``hil.model`` trained here through the simulated link,
    :mod:`psfl.semantic.resolve`) and the test split it sends; records how in ``summary``."""
    from psfl.phy import UplinkLink
    from psfl.semantic.resolve import codec_source

    hil = config.hil
    source = codec_source(config, run_dir, checkpoint=hil.checkpoint or None, model=hil.model,
                          match_config=False)
    if hil.checkpoint:
        summary.update(checkpoint=hil.checkpoint, trained_steps=0)
        return source.codec, source.test
    if hil.train_steps:
        source.train(UplinkLink(sim_cfg), config, run_dir, steps=hil.train_steps,
                     snr_db_range=tuple(hil.train_snr_db), what=" (AWGN, LS, per RE)")
    summary.update(trained_steps=hil.train_steps, model=source.codec.arch)
    return source.codec, source.test


def power_mean_db(values_db: list[float]) -> float:
    """The mean of SNRs in dB taken in power (the log line and summary.json's snr_db_mean)."""
    return float(10 * np.log10(np.mean([10 ** (v / 10) for v in values_db])))


def frames_line(rows: list[dict[str, Any]], total: int) -> str:
    """One line on the frames received so far, for ``log.txt`` when a run is interrupted."""
    det = [r for r in rows if r.get("detected")]
    line = f"{len(rows)}/{total} frames sent, {len(det)} detected"
    snr = [r["snr_db"] for r in det if r.get("snr_db") is not None]
    evm = [r["evm_db"] for r in det if r.get("evm_db") is not None]
    if snr:
        line += f", SNR {power_mean_db(snr):.1f} dB"
    if evm:
        line += f", EVM {np.mean(evm):.1f} dB"
    return line


def settings_caption(hil: Any, session: HilSession) -> list[str]:
    """The settings a reader needs to repeat a figure: radio, set SNR, CFO, frames, codec."""
    from psfl.plotting import si

    summary, plan = session.summary, session.plan
    parts = [session.radio.where(hil)]
    if plan is not None:
        parts.append(f"SNR set {plan.label()}")
    if session.cfo_set_hz is not None:
        parts.append(f"CFO set {si(session.cfo_set_hz, 'Hz', places=1)}")
    parts.append(f"{hil.num_frames} frames of k = {summary['k']} symbols")
    if summary.get("checkpoint"):
        parts.append(f"codec {summary['checkpoint']}")
    else:
        steps = summary.get("trained_steps", 0)
        parts.append(f"codec {summary.get('model', '')}, "
                     + (f"{steps} training steps" if steps else "untrained"))
    return parts


def result_line(session: HilSession) -> str:
    """The run in one line with units (``log.txt`` and stderr)."""
    from psfl.plotting import si

    summary, plan = session.summary, session.plan
    line = (f"{session.radio.label}: {summary['frames_detected']}/{summary['frames_sent']} "
            "frames detected")
    if summary.get("snr_db_mean") is not None:
        line += f", SNR {summary['snr_db_mean']:.1f} dB per RE measured"
    if plan is not None:
        line += f" (set {plan.label()})"
    if summary.get("evm_db_mean") is not None:
        line += (f", EVM {summary['evm_db_mean']:.1f} dB, "
                 f"CFO {si(summary['cfo_hz_mean'], 'Hz', places=1)}")
    if summary.get("psnr_radio") is not None:
        line += (f", PSNR {summary['psnr_radio']:.2f} dB "
                 f"(simulated link {summary['psnr_simulated']:.2f} dB)")
    if summary.get("frames_sent"):
        line += (f", receiver {duration(summary['receiver_s'])} for "
                 f"{duration(summary['frames_sent'] * summary['frame_airtime_s'])} of air time")
    return line


def _transmit(radio: Radio, hil: Any, fmt: Any, z: np.ndarray,
              run_dir: RunDir) -> tuple[Any, RadioError | None]:
    """``z`` through ``radio`` (closed at the end), ``frames.csv`` written as frames arrive;
    a radio lost mid-run returns what was received and the error."""
    from psfl.hil.link import HilLink
    from psfl.results import progress

    link = HilLink(radio, fmt, backoff_db=hil.backoff_db,
                   frames_per_buffer=hil.frames_per_buffer, max_captures=hil.max_captures,
                   auto_buffer=hil.rx_buffer_size == 0,
                   receiver_kwargs={"max_cfo_subcarriers": hil.max_cfo_subcarriers,
                                    "threshold": hil.detection_threshold})
    error: RadioError | None = None
    bar = progress(total=hil.num_frames, desc=f"hil {hil.radio}", unit="frame")
    frames_csv = FramesCsv(run_dir.file("frames.csv"))

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
        run_dir.log(f"interrupted after {frames_line(frames_csv.rows, hil.num_frames)}; "
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
    return res, error


def _measures(res: Any, fmt: Any) -> dict[str, Any]:
    """Detection, mean SNR (in power), EVM, CFO and receiver time of the received frames."""
    det, sent = res.detected, res.num_sent
    rows = [f for f in res.frames if f["detected"]]
    return dict(
        frames_sent=sent, frames_detected=int(det.sum()),
        detection_rate=float(det[:sent].mean()) if sent else 0.0,
        snr_db_mean=power_mean_db([r["snr_db"] for r in rows]) if rows else None,
        evm_db_mean=float(np.mean([r["evm_db"] for r in rows])) if rows else None,
        cfo_hz_mean=float(np.mean([r["cfo_hz"] for r in rows])) if rows else None,
        tx_clip_fraction=res.clip_fraction, receiver_s=res.dsp_s,
        receiver_realtime_factor=(res.dsp_s / (sent * fmt.airtime_s)) if sent else None)


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


def run_session(config: Config, run_dir: RunDir, *,
                twin_kwargs: dict[str, Any] | None = None) -> HilSession:
    """One run of ``psfl hil`` (steps in the module docstring); writes ``frames.csv`` and the
    log lines, no figures and no summary.

    Parameters
    ----------
    config : Config
        ``[hil]``, ``[phy]`` (numerology), ``[data]``, ``[semantic]``, ``run.seed``.
    run_dir : RunDir
        Where ``frames.csv``, the log and training checkpoints go.
    twin_kwargs : dict or None
        Extra :class:`~psfl.hil.twin.PlutoTwin` arguments (fault injection).
    """
    from psfl.hil.radios import open_radio
    from psfl.hil.snr import snr_plan
    from psfl.hil.waveform import FrameFormat

    hil, seed = config.hil, config.run.seed
    radio_cls = radio_class(hil.radio)
    sim_cfg = simulated_phy(config)
    summary: dict[str, Any] = {"radio": hil.radio}
    codec, test = codec_and_images(config, sim_cfg, run_dir, summary)
    if len(test.images) == 0:
        raise ValueError("the [data] test split is empty; lower data.test_fraction's cap or "
                         "use more images")
    reps = int(np.ceil(hil.num_frames / len(test.images)))
    images = np.concatenate([test.images] * reps)[: hil.num_frames]
    summary.update(k=codec.k, image_size=list(codec.image_size), frames=hil.num_frames)

    fmt = FrameFormat(sim_cfg, codec.k, guard=hil.guard_samples or None,
                      sample_rate_hz=hil.sample_rate_hz or None)
    summary.update(sample_rate_hz=fmt.sample_rate_hz, scs_hz=fmt.scs_hz,
                   frame_samples=fmt.frame_len, frame_airtime_s=fmt.airtime_s,
                   slots_per_frame=fmt.num_slots)
    # A real radio's SNR is whatever the cable and gains give; only the others set one.
    plan = snr_plan(fmt, hil.snr_db, hil.snr_reference) if radio_cls.sets_own_snr else None
    if plan is not None:
        summary.update(plan.summary())
        run_dir.log(f"{radio_cls.label}: {plan.describe()}")
        run_dir.log(plan.breakdown(fmt))
    # The codec's SNR input means UplinkLink's per-RE SNR, whichever reference set it.
    z = codec.encode(images, hil.snr_db if plan is None else plan.expected_re_db).numpy()
    radio = open_radio(hil, fmt.sample_rate_hz, fmt.scs_hz, seed=seed, twin_kwargs=twin_kwargs,
                       snr_db=None if plan is None else plan.radio_db)
    summary["radio_settings"] = radio.describe()
    res, error = _transmit(radio, hil, fmt, z, run_dir)

    summary.update(_measures(res, fmt))
    decoded = None
    if any(f["detected"] for f in res.frames):
        sel = np.flatnonzero(res.detected)
        decoded = _decode(codec, sim_cfg, images[sel], res, z, sel, summary)
    return HilSession(summary=summary, radio=radio_cls, fmt=fmt, result=res, z=z,
                      images=images, plan=plan, cfo_set_hz=radio_cls.cfo_set_hz(hil, fmt.scs_hz),
                      decoded=decoded, error=error)
