r"""Semantic symbols through a radio: frames out, cyclic TX, RX capture, receiver, symbols in.

:class:`HilLink` sends the rows of ``z`` ([B, k], one image each) in batches of
``frames_per_buffer`` frames. Per batch it loads the frames as one cyclic TX buffer, drops
one RX buffer (transients of the new TX, stale samples), captures one cyclic period plus one
frame (so that every frame lies completely in the capture at least once, wherever the
stream starts) and runs the :class:`~psfl.hil.receiver.Receiver`. Frames still missing are
captured again, up to ``max_captures`` times; a frame never found is reported as not
detected and handed to the decoder as zeros with a large noise variance.

A radio that fails mid-run raises :class:`~psfl.hil.radios.RadioError` whose ``result``
attribute holds a :class:`HilResult` with every frame decoded so far.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from psfl.hil.radios import Radio, RadioError
from psfl.hil.receiver import FrameResult, Receiver
from psfl.hil.waveform import FrameFormat

__all__ = ["HilLink", "HilResult", "UNDETECTED_NO"]

#: Noise variance handed to the decoder for the symbols of a frame that was not received.
UNDETECTED_NO = 1e3


@dataclasses.dataclass
class HilResult:
    """Outcome of :meth:`HilLink.run`.

    Attributes
    ----------
    y : [B, k], complex64
        Equalized symbols (zeros for frames not received).
    no_eff : [B, k], float32
        Post-equalization noise variance (:data:`UNDETECTED_NO` for frames not received).
    detected : [B], bool
        Frame received with a valid header.
    frames : list of dict
        One row per frame attempted: ``frame, detected, timing, cfo_hz, cfo_sc, snr_db,
        evm_db, pilot_evm_db, metric, batch, captures``.
    dsp_s : float
        Receiver time (all captures) [s].
    radio_s : float
        Time spent in ``tx``/``rx`` [s].
    captured_samples : int
        Samples captured in all.
    clip_fraction : float
        Largest TX clip fraction of the batches.
    """

    y: np.ndarray
    no_eff: np.ndarray
    detected: np.ndarray
    frames: list[dict[str, Any]]
    dsp_s: float = 0.0
    radio_s: float = 0.0
    captured_samples: int = 0
    clip_fraction: float = 0.0
    decoded: dict[int, FrameResult] = dataclasses.field(default_factory=dict)

    @property
    def num_sent(self) -> int:
        """Frames whose batch was transmitted (rows in :attr:`frames`)."""
        return len(self.frames)


class HilLink:
    """Semantic symbols through a radio (see the module docstring).

    Parameters
    ----------
    radio : Radio
        Any :class:`~psfl.hil.radios.Radio`: :class:`~psfl.hil.radios.PlutoRadio`,
        :class:`~psfl.hil.radios.TwinRadio`, :class:`~psfl.hil.radios.EmulatedRadio` ….
    fmt : FrameFormat
        Frame layout; ``fmt.k`` symbols per frame.
    backoff_db : float
        TX RMS back-off under 2^14 [dB].
    frames_per_buffer : int
        Frames per cyclic TX buffer.
    max_captures : int
        Captures per TX buffer before missing frames are given up.
    auto_buffer : bool
        Size the radio's RX buffer to hold a whole capture (one ``rx()`` per capture: on
        hardware consecutive ``rx()`` calls need not be contiguous).
    flush_buffers : int
        RX buffers dropped after each ``tx``.
    receiver_kwargs : dict
        :class:`~psfl.hil.receiver.Receiver` options (``max_cfo_subcarriers``,
        ``threshold``, ``backoff``).

    Input
    -----
    z : [B, k], complex
        Semantic symbols, one frame per row.

    Output
    ------
    :class:`HilResult`
    """

    def __init__(self, radio: Radio, fmt: FrameFormat, *, backoff_db: float = 10.0,
                 frames_per_buffer: int = 8, max_captures: int = 3, auto_buffer: bool = True,
                 flush_buffers: int = 1, receiver_kwargs: dict[str, Any] | None = None):
        self.radio = radio
        self.fmt = fmt
        self.backoff_db = float(backoff_db)
        self.frames_per_buffer = int(frames_per_buffer)
        self.max_captures = int(max_captures)
        self.auto_buffer = auto_buffer
        self.flush_buffers = int(flush_buffers)
        self.receiver = Receiver(fmt, **(receiver_kwargs or {}))

    def capture_len(self, frames: int) -> int:
        """Samples captured for a buffer of ``frames`` frames."""
        return (frames + 1) * self.fmt.frame_len + 2 * self.fmt.sym_len

    def run(self, z: np.ndarray, *, first_index: int = 0,
            on_frame: Callable[[dict[str, Any]], None] | None = None) -> HilResult:
        fmt = self.fmt
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != fmt.k:
            raise ValueError(f"z must have shape [B, {fmt.k}], got {z.shape}")
        b_total = z.shape[0]
        y = np.zeros((b_total, fmt.k), np.complex64)
        no_eff = np.full((b_total, fmt.k), UNDETECTED_NO, np.float32)
        detected = np.zeros(b_total, bool)
        res = HilResult(y, no_eff, detected, [])
        try:
            for b0 in range(0, b_total, self.frames_per_buffer):
                self._batch(z, b0, min(b0 + self.frames_per_buffer, b_total), first_index,
                            res, on_frame)
        except RadioError as exc:
            exc.result = res  # type: ignore[attr-defined]
            raise
        return res

    def _batch(self, z: np.ndarray, b0: int, b1: int, first_index: int, res: HilResult,
               on_frame: Callable[[dict[str, Any]], None] | None) -> None:
        fmt = self.fmt
        x = fmt.modulate(z[b0:b1], first_index + b0)
        samples, clip = fmt.to_dac(x, self.backoff_db)
        res.clip_fraction = max(res.clip_fraction, clip)
        need = self.capture_len(b1 - b0)
        t0 = time.perf_counter()
        if self.auto_buffer and self.radio.rx_buffer_size < need:
            self.radio.rx_buffer_size = need
        self.radio.tx(samples)
        for _ in range(self.flush_buffers):
            self.radio.rx()
        res.radio_s += time.perf_counter() - t0
        wanted = set(range(first_index + b0, first_index + b1))
        found: dict[int, FrameResult] = {}
        captures = 0
        while wanted - set(found) and captures < self.max_captures:
            captures += 1
            t0 = time.perf_counter()
            parts = [self.radio.rx() for _ in range(math.ceil(need / self.radio.rx_buffer_size))]
            res.radio_s += time.perf_counter() - t0
            r = np.concatenate(parts)
            res.captured_samples += r.size
            t0 = time.perf_counter()
            for fr in self.receiver(r):
                if fr.header_ok and fr.index in wanted and fr.index not in found:
                    found[fr.index] = fr
            res.dsp_s += time.perf_counter() - t0
        for idx in range(first_index + b0, first_index + b1):
            row = idx - first_index
            fr = found.get(idx)
            info: dict[str, Any] = {"frame": idx, "detected": fr is not None,
                                    "batch": b0 // self.frames_per_buffer,
                                    "captures": captures}
            if fr is not None:
                ys, ns = fr.symbols(fmt)
                res.y[row], res.no_eff[row] = ys, ns
                res.detected[row] = True
                ref = z[row]
                evm = float(np.mean(np.abs(ys - ref) ** 2) / max(np.mean(np.abs(ref) ** 2),
                                                                 1e-30))
                info.update(timing=round(fr.start, 3), cfo_hz=fr.cfo_hz, cfo_sc=fr.cfo_sc,
                            snr_db=fr.snr_db, evm_db=10 * np.log10(max(evm, 1e-30)),
                            pilot_evm_db=fr.pilot_evm_db, metric=fr.metric)
                res.decoded[idx] = fr
            else:
                info.update(timing=float("nan"), cfo_hz=float("nan"), cfo_sc=float("nan"),
                            snr_db=float("nan"), evm_db=float("nan"),
                            pilot_evm_db=float("nan"), metric=float("nan"))
            res.frames.append(info)
            if on_frame is not None:
                on_frame(info)
