r"""Loss rules of the whole-photo baseline: the photo, or each JPEG restart interval (slice).

:class:`~psfl.phy.digital.photo.PhotoBaseline` cuts one codestream per photo over one transport
block (TB) per OFDM slot; ``loss`` decides what a TB that fails its CRC costs:

* ``"photo"`` (default, :class:`PhotoLoss`): one failed TB loses the whole photo, which is
  replaced by the fallback colour: a stream cut at an unknown place does not decode reliably.
* ``"slice"`` (:class:`SliceLoss`, JPEG only): the photo is coded with a restart marker after
  every row of MCUs (:meth:`psfl.phy.digital.source.JpegCoder.sliced`), and a failed TB loses
  only the restart intervals that have a byte in it.

**Slice rule** (ours: no standard says what a receiver of a multi-TB JPEG does; this is the
ideal receiver that knows which bytes failed their CRC and drops exactly what they touch):

1. **Intervals** (:func:`restart_intervals`). In the entropy-coded scan a byte 0xFF is always
   followed by a stuffed 0x00 (T.81 F.1.2.3), so every pair 0xFF 0xD0–0xD7 is a restart marker
   RSTm. Interval ``j`` is the bytes ``[s_j, s_{j+1})`` with ``s_0 = 0`` and ``s_j`` the
   position of the ``j``-th marker: each marker belongs to the interval it opens (a receiver
   finds an interval's start by its marker), the last interval ends with the scan. The ranges
   tile the scan. In the payload they are shifted by the side header (JPEG: the 1 byte of
   quality and scale from which the receiver rebuilds the JPEG header, which every interval
   needs); the 0xFF fill after the scan belongs to none.
2. **Loss** (:func:`tb_byte_ranges`, :func:`overlaps`). TB ``s`` holds the payload bytes
   ``[o_s/8, o_{s+1}/8)`` (``o``: :meth:`Segmentation.payload_offsets`, the order the
   transmitter cuts them in). Interval ``j`` is lost iff some TB that failed its CRC shares a
   byte with it: ``a_j < e_s`` and ``b_s < e_j`` for intervals ``[a_j, e_j)`` and failed TBs
   ``[b_s, e_s)``. A failed TB that holds a byte of the side header loses the photo (fallback
   colour), as under ``"photo"``; so does the loss of every interval.
3. **Pixels** (:func:`interval_rows`). Interval ``j`` of a photo whose restart interval is
   ``R_i`` MCUs, ``M = ceil(W / (8 H_max))`` MCUs per row, covers the pixel rows
   ``[j R_i / M · 8 V_max, min((j+1) R_i / M · 8 V_max, H))`` of the image as coded (``H_max``,
   ``V_max``: the largest sampling factors of the frame header; 4:2:0 gives 16-row MCUs, 4:4:4
   8-row ones; half-resolution images count in their own rows). Read from the header the
   receiver rebuilds (SOF and DRI, T.81 B.2.2 and B.2.4.4).
4. **Concealment** (:func:`conceal`; ours, the vertical form of the distance-weighted spatial
   concealment of H.264's reference decoder, JM): each run of lost intervals is interpolated
   row by row, linearly, between the received pixel rows just above and just below it; copied
   from the one side where only one was received; the fallback colour (rounded to 8 bits) where
   none was. At half resolution this is done before the upscaling.

**Implementation and its equivalence.** The error-free stream is decoded and the lost rows
are overwritten (:meth:`SourceCoder.decode`'s ``repair``). Since every interval decodes from its
own bytes and the header alone (DC predictions reset at each marker), this equals a decoder
that drops the CRC-failed intervals and conceals them, with one exception: libjpeg's "fancy"
chroma upsampling interpolates the chroma of an MCU row's first and last pixel row with the
neighbouring MCU row (weight 1/4), so those two rows of a received interval next to a lost one
carry a quarter of the lost row's chroma instead of whatever the dropping decoder would put
there. Undetected errors (a TB's CRC passed with wrong bits, ``info["undetected_error"]``) are
reported but not shown in the pixels under this rule.

**Delivery.** ``info["slices_delivered"]`` is the fraction of the photo's restart intervals
received (``"photo"``: the photo is one slice, so 1 or 0); ``info["num_slices"]`` their number
(0 when nothing fitted). ``info["success"]`` keeps its meaning (every TB received and the stream
decoded) under both rules.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._shared import decode_or_fallback
from .source import SourceCoder

__all__ = ["LOSS_RULES", "JpegGeometry", "LossRule", "PhotoLoss", "Received", "SliceLoss",
           "conceal", "interval_rows", "jpeg_geometry", "overlaps", "restart_intervals",
           "tb_byte_ranges"]


# -- pure functions ---------------------------------------------------------------------------


def restart_intervals(scan: bytes) -> np.ndarray:
    """Byte ranges of the restart intervals of an entropy-coded JPEG scan.

    Input
    -----
    scan : bytes
        The bytes between the SOS segment and EOI (fill bytes stripped).

    Output
    ------
    : [num_intervals, 2], np.int64
        ``[start, end)`` of each interval; each RSTm marker starts the interval it opens, the
        ranges tile ``[0, len(scan))``. A scan without markers is one interval. `ValueError` if
        the markers do not count 0, 1, …, 7, 0, … (T.81 Table B.1).
    """
    b = np.frombuffer(scan, np.uint8)
    marks = np.flatnonzero((b[:-1] == 0xFF) & ((b[1:] & 0xF8) == 0xD0))
    if np.any((b[marks + 1] & 0x07) != np.arange(len(marks)) % 8):
        raise ValueError("restart markers out of sequence: not one JPEG scan")
    starts = np.concatenate([[0], marks]).astype(np.int64)
    return np.stack([starts, np.append(starts[1:], len(b))], axis=1)


@dataclass(frozen=True)
class JpegGeometry:
    """The MCU grid of a baseline JPEG frame.

    Parameters
    ----------
    height, width : int
        Image size in pixels (SOF ``Y``, ``X``).
    mcu_height, mcu_width : int
        ``8 V_max``, ``8 H_max``: 16 and 16 for 4:2:0, 8 and 8 for 4:4:4.
    restart_interval : int
        MCUs per restart interval (DRI ``Ri``; 0: no restart markers).
    """

    height: int
    width: int
    mcu_height: int
    mcu_width: int
    restart_interval: int

    @property
    def mcus_per_row(self) -> int:
        """MCUs across the image, ``ceil(width / mcu_width)``."""
        return math.ceil(self.width / self.mcu_width)


def jpeg_geometry(data: bytes) -> JpegGeometry:
    """The :class:`JpegGeometry` of a JPEG file (or its header: markers up to SOS are read).

    Input
    -----
    data : bytes
        Starts with SOI (0xFFD8); SOF0/1/2 (T.81 B.2.2) and DRI (B.2.4.4) before SOS.

    Output
    ------
    : JpegGeometry
        `ValueError` if there is no frame header.
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file: no SOI marker")
    pos, sof, ri = 2, None, 0
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        seg = data[pos + 4 : pos + 2 + length]
        if marker in (0xC0, 0xC1, 0xC2):
            sof = seg
        elif marker == 0xDD:
            ri = int.from_bytes(seg[:2], "big")
        elif marker == 0xDA:
            break
        pos += 2 + length
    if sof is None:
        raise ValueError("no JPEG frame header (SOF0/1/2) before the scan")
    comps = [sof[6 + 3 * c + 1] for c in range(sof[5])]  # (H << 4) | V per component
    return JpegGeometry(int.from_bytes(sof[1:3], "big"), int.from_bytes(sof[3:5], "big"),
                        8 * max(c & 0x0F for c in comps), 8 * max(c >> 4 for c in comps), ri)


def interval_rows(geometry: JpegGeometry) -> np.ndarray:
    """Pixel rows of each restart interval.

    Input
    -----
    geometry : JpegGeometry
        Its restart interval a whole number of MCU rows (or 0: the image is one interval).

    Output
    ------
    : [num_intervals, 2], np.int64
        ``[first, end)`` rows of interval ``j``: ``j R_i/M · mcu_height`` up to the next
        interval's first row or the image height. `ValueError` if ``R_i`` is not a multiple of
        the MCUs per row ``M``.
    """
    g = geometry
    if g.restart_interval == 0:
        return np.asarray([[0, g.height]], np.int64)
    if g.restart_interval % g.mcus_per_row:
        raise ValueError(f"a restart interval of {g.restart_interval} MCUs is not whole rows of "
                         f"{g.mcus_per_row} MCUs; slices need restart_marker_rows")
    step = g.restart_interval // g.mcus_per_row * g.mcu_height
    first = np.arange(0, g.height, step, dtype=np.int64)
    return np.stack([first, np.minimum(first + step, g.height)], axis=1)


def tb_byte_ranges(payload_offsets: np.ndarray) -> np.ndarray:
    """Payload bytes of each TB, ``[o_s/8, o_{s+1}/8)``, [num_slots, 2] np.int64, from the
    start bits ``o`` [num_slots + 1] (:meth:`Segmentation.payload_offsets`; every TB size is
    a multiple of 8 bits)."""
    o = np.asarray(payload_offsets, np.int64)
    if np.any(o % 8):
        raise ValueError("TB sizes must be whole bytes (38.214 TB sizes are multiples of 8)")
    return np.stack([o[:-1] // 8, o[1:] // 8], axis=1)


def overlaps(ranges: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Which byte ranges share a byte with any failed range, bool [n].

    Input
    -----
    ranges : [n, 2], int
        ``[a, e)`` byte ranges (intervals, the side header).
    failed : [m, 2], int
        ``[b, f)`` byte ranges of the TBs that failed their CRC (empty ranges never overlap).

    Output
    ------
    : [n], np.bool
        ``any_s(a < f_s and b_s < e and b_s < f_s)``.
    """
    r = np.asarray(ranges, np.int64).reshape(-1, 1, 2)
    f = np.asarray(failed, np.int64).reshape(1, -1, 2)
    hit = (r[..., 0] < f[..., 1]) & (f[..., 0] < r[..., 1]) & (f[..., 0] < f[..., 1])
    return hit.any(axis=1)


def conceal(img: np.ndarray, rows: np.ndarray, lost: np.ndarray,
            fill: np.ndarray) -> np.ndarray:
    """Lost intervals' rows interpolated from the nearest received rows above and below.

    Input
    -----
    img : [height, width, channels]
        The decoded image (integer dtypes are rounded back to it).
    rows : [n, 2], int
        Pixel rows ``[first, end)`` of each interval (:func:`interval_rows`), top to bottom,
        tiling the image.
    lost : [n], bool
        Which intervals were lost.
    fill : [channels]
        Colour of lost rows with no received interval above or below.

    Output
    ------
    : [height, width, channels], dtype of ``img``
        A copy. Each run of consecutive lost intervals, rows ``[a, e)`` between the received
        rows ``u = img[a-1]`` and ``d = img[e]``, becomes ``(1 - w_t) u + w_t d`` with
        ``w_t = (t - a + 1) / (e - a + 1)`` for row ``t``; a copy of ``u`` (or ``d``) where
        only one side was received; ``fill`` where neither was. Received rows are unchanged.
    """
    out = np.array(img, copy=True)
    rows, lost = np.asarray(rows), np.asarray(lost, bool)
    j = 0
    while j < len(lost):
        if not lost[j]:
            j += 1
            continue
        e = j + np.argmin(np.append(lost[j:], False))  # end of the run of lost intervals
        a, end = int(rows[j, 0]), int(rows[e - 1, 1])
        up = img[a - 1].astype(np.float64) if j > 0 else None
        down = img[end].astype(np.float64) if e < len(lost) else None
        if up is None and down is None:
            patch: Any = np.asarray(fill, np.float64)
        elif up is None or down is None:
            patch = up if down is None else down
        else:
            w = (np.arange(1, end - a + 1) / (end - a + 1))[:, None, None]
            patch = (1.0 - w) * up + w * down
        if np.issubdtype(out.dtype, np.integer):
            patch = np.rint(patch)
        out[a:end] = patch
        j = e
    return out


# -- the loss rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One photo's payload as sent and as received, with the fate of each TB.

    Parameters
    ----------
    sent : bytes
        The transmitted payload (the coder's frame).
    received : bytes
        The payload as decoded (failed TBs included).
    tb_ok : [num_slots], bool
        TB CRC passed (`True` for a slot without TB).
    payload_offsets : [num_slots + 1], int
        Start bit of each TB's share of the payload (:meth:`Segmentation.payload_offsets`).
    """

    sent: bytes
    received: bytes
    tb_ok: np.ndarray
    payload_offsets: np.ndarray


class LossRule(ABC):
    """What failed TBs cost a photo: the source coder it needs, and the receiver's image."""

    #: Configuration name (``PhotoBaseline(loss=...)``, ``semantic.photo_loss``).
    name: ClassVar[str]
    #: Needs a source coder with slices (:attr:`SourceCoder.slices`).
    needs_slices: ClassVar[bool] = False

    def coder(self, coder: SourceCoder) -> SourceCoder:
        """The source coder the transmitter uses under this rule."""
        return coder

    @abstractmethod
    def receive(self, coder: SourceCoder, rx: Received, height: int, width: int,
                fallback: np.ndarray, info: dict[str, Any], i: int) -> np.ndarray:
        """Photo ``i`` as the receiver shows it, float32 [height, width, 3] in [0, 1]; sets
        ``info["success"]``, ``["decode_error"]``, ``["slices_delivered"]`` and
        ``["num_slices"]`` at ``i``."""


class PhotoLoss(LossRule):
    """One failed TB loses the photo (the fallback colour is shown)."""

    name = "photo"

    def receive(self, coder: SourceCoder, rx: Received, height: int, width: int,
                fallback: np.ndarray, info: dict[str, Any], i: int) -> np.ndarray:
        ok = bool(np.all(rx.tb_ok))
        out = decode_or_fallback(coder, rx.received if ok else None, height, width, fallback,
                                 info, i)
        info["slices_delivered"][i], info["num_slices"][i] = float(info["success"][i]), 1
        return out


class SliceLoss(LossRule):
    """A failed TB loses the restart intervals with a byte in it (module docstring)."""

    name = "slice"
    needs_slices = True

    def coder(self, coder: SourceCoder) -> SourceCoder:
        if not coder.slices:
            raise ValueError(f"codec={coder.name!r} has no restart intervals, which "
                             "loss='slice' needs; use codec='jpeg' or loss='photo'")
        return coder.sliced()

    def receive(self, coder: SourceCoder, rx: Received, height: int, width: int,
                fallback: np.ndarray, info: dict[str, Any], i: int) -> np.ndarray:
        parts = coder.unframe(rx.sent)
        tbs = tb_byte_ranges(rx.payload_offsets)
        failed = tbs[~np.asarray(rx.tb_ok, bool)]
        side = len(rx.sent) - coder.budget(len(rx.sent))
        if parts is None:  # nothing fitted: no slices
            return decode_or_fallback(coder, None, height, width, fallback, info, i)
        stream, quality, _ = parts
        lost = overlaps(restart_intervals(stream) + side, failed)
        info["num_slices"][i] = len(lost)
        if overlaps([[0, side]], failed)[0] or lost.all():  # the side header or every slice
            return decode_or_fallback(coder, None, height, width, fallback, info, i)
        fill = np.rint(np.asarray(fallback) * 255.0)

        def repair(img: np.ndarray) -> np.ndarray:
            header = coder.file(b"", img.shape[0], img.shape[1], quality)
            rows = interval_rows(jpeg_geometry(header))
            if len(rows) != len(lost):
                raise ValueError(f"{len(lost)} restart intervals in the scan, {len(rows)} in "
                                 "the frame")
            return conceal(img, rows, lost, fill)

        out = decode_or_fallback(coder, rx.sent, height, width, fallback, info, i, repair)
        decoded = bool(info["success"][i])
        info["slices_delivered"][i] = 1.0 - float(np.mean(lost)) if decoded else 0.0
        info["success"][i] = decoded and bool(np.all(rx.tb_ok))  # the key's meaning: every TB
        return out


#: The loss rules by name, in the order offered (the first is the default).
LOSS_RULES: dict[str, type[LossRule]] = {r.name: r for r in (PhotoLoss, SliceLoss)}
