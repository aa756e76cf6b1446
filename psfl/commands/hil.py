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

The run itself is :func:`psfl.hil.session.run_session`, its figures :mod:`psfl.hil.figures`;
this module parses, calls and writes.
"""

from __future__ import annotations

import argparse
from typing import Any

from psfl.config import Config
from psfl.hil.radios.registry import RADIOS
from psfl.hil.snr import SNR_REFERENCES
from psfl.results import RunDir

HELP = (f"Send images as OFDM frames through an SDR ({' | '.join(RADIOS.names())}) and compare "
        "with the simulated link at the measured SNR.")


def _radios(**capability: bool) -> str:
    return "/".join(RADIOS.names(**capability))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", choices=RADIOS.names(),
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
                        help=f"{_radios(sets_own_snr=True)} SNR in dB per resource element, "
                             "as the receiver measures it (default hil.snr_db); with "
                             "--snr-reference waveform "
                             "relative to the mean power of the whole TX waveform (guard, CP, "
                             "empty subcarriers and REs included), which reads 4.2 dB higher "
                             "per RE at the default numerology and k = 512")
    parser.add_argument("--snr-reference", choices=SNR_REFERENCES,
                        help="what --snr is relative to: re (one resource element) or waveform "
                             "(default hil.snr_reference)")
    parser.add_argument("--cfo", type=float, metavar="SPACINGS",
                        help=f"{_radios(applies_cfo_subcarriers=True)} CFO in subcarrier "
                             "spacings")
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
        hil["radio"] = "pluto"  # a URI alone means a real Pluto
    if args.steps is not None and args.checkpoint is None:
        hil["checkpoint"] = ""  # --steps N: train here instead of the shipped codec
    return config.replace("hil", **hil) if hil else config


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    config = _shortcuts(args, config)
    run_dir.write_config(config)

    from psfl.hil.figures import write_figures
    from psfl.hil.session import result_line, run_session

    twin_kwargs = ({"drop_after_reads": args.twin_drop_after}
                   if getattr(args, "twin_drop_after", None) is not None else None)
    session = run_session(config, run_dir, twin_kwargs=twin_kwargs)
    write_figures(run_dir, session, config.hil)
    run_dir.log(result_line(session), echo=True)
    summary = session.summary
    if session.error is not None:
        summary.update(error=str(session.error), command="hil")
        run_dir.write_summary(summary)
        raise session.error
    return summary
