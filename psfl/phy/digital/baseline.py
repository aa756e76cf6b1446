"""Digital baseline: separate source and channel coding over the same channel uses.

The learned semantic codecs send ``k`` complex channel uses per image. The digital baseline gets
exactly the same budget and spends it the classic way:

1. **MCS** (:mod:`psfl.phy.digital.mcs`). A modulation order ``m`` and LDPC code rate ``R`` from
   3GPP TS 38.214 Table 5.1.3.1-2 (indices 2..27), either fixed by the user or picked per image
   by :meth:`DigitalBaseline.select_mcs`: the highest MCS whose 10 %-BLER threshold SNR (plus
   ``margin_db``) does not exceed the link SNR; below every threshold the lowest MCS is used.
   Thresholds are non-decreasing in the MCS index (running maximum,
   :func:`~psfl.phy.digital.mcs.monotone_thresholds`), so a higher MCS is never chosen at a lower
   SNR. The default table was measured on AWGN with ``k = 512``
   (:data:`~psfl.phy.digital.mcs.DEFAULT_THRESHOLDS_DB`); tables per channel configuration
   come from :func:`psfl.phy.digital.calibration.thresholds_for` and are passed as
   ``thresholds_db``.
2. **Bit budget.** ``k`` symbols carry ``k*m`` coded bits, of which ``floor(k*m*R)`` are
   information bits; without the 24 CRC bits, in whole bytes, the payload is
   ``P = floor((floor(k*m*R) - 24) / 8)`` bytes (:func:`~psfl.phy.digital.mcs.transport_format`).
3. **Source coding** (:mod:`psfl.phy.digital.source`). JPEG, WebP, JPEG 2000 or AVIF
   (``codec``) at the highest quality whose stream fits ``P`` bytes, with every header the
   receiver can rebuild stripped; half resolution if that is better or the only thing that
   fits; else a "no image" marker (``info["source_fit"]`` is ``False``).
4. **Channel coding** (:class:`~psfl.phy.digital.chain.TransportChain`). CRC24A, 5G LDPC code
   blocks rate-matched to ``k*m`` bits, 38.211 scrambling, QAM; ``k`` symbols through the link.
5. **Receiver.** "app" demapping with the per-symbol noise variance the link returns, 5G LDPC
   belief propagation (20 iterations), CRC check. A failed CRC loses the image: it is replaced
   by the ``fallback`` image (mid-grey 0.5 by default, or a given RGB colour such as the data-set
   mean) and ``info["success"]`` is ``False``.

The error-free reference at the channel's capacity is
:func:`psfl.phy.digital.capacity.capacity_reference`.

PSNR is :func:`psfl.phy.quality.psnr` per image against the float input: ``10 log10(1 / MSE)`` on
the [0, 1] scale, the MSE floored at 1e-10 (100 dB) so that lossless results stay finite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ..link import LinkFn
from ..quality import psnr
from ._shared import check_snr, decode_or_fallback, encode_all, fallback_colour, per_item
from .chain import MODES, TransportChain
from .mcs import MCS, MCS_INDICES, TransportFormat, mcs_table, transport_format
from .source import source_coder, source_encode, to_uint8

__all__ = ["DigitalBaseline"]


class DigitalBaseline:
    # pylint: disable=line-too-long
    r"""JPEG/WebP/JPEG 2000/AVIF + CRC24A + 5G LDPC + QAM over ``k`` channel uses per image.

    See the module docstring for the complete scheme, the bit budget and the fallback.

    Parameters
    ----------
    k : int
        Complex channel uses per image (the same ``k`` the semantic codec uses).
    mcs : `None` (default) | int
        Fixed MCS index (2..27 of 38.214 Table 5.1.3.1-2); `None` selects per image by SNR.
    codec : "jpeg" (default) | "webp" | "jpeg2000" | "avif"
        Source coder (:mod:`psfl.phy.digital.source`).
    fallback : float | sequence of 3 floats (default 0.5)
        Grey level or RGB colour in [0, 1] shown when an image is lost.
    margin_db : float (default 0.0)
        Added to every threshold in the MCS selection rule (backoff for fading channels).
    thresholds_db : `None` (default) | dict
        Per-MCS thresholds, e.g. from :func:`psfl.phy.digital.calibration.thresholds_for`; missing
        indices keep the AWGN defaults, and the table is made non-decreasing.
    downscale : bool (default `True`)
        Allow half resolution where it gives the lower MSE or is all that fits.
    num_iter : int (default 20)
        LDPC belief-propagation iterations.
    mode : "graph" (default) | "xla" | "eager"
        How the TF coding chain runs (the link runs as the caller built it).

    Input (:meth:`transmit`)
    -----
    images : [batch, height, width, 3], float32 in [0, 1]
        Images (numpy or TF).
    link : callable
        ``link(x, snr_db) -> (y, no_eff)`` with ``x`` [batch, k] tf.complex64 of unit average
        power, ``snr_db`` [batch] tf.float32, ``y`` [batch, k] tf.complex64 equalized symbols and
        ``no_eff`` [batch, k] tf.float32 (or broadcastable) noise variance, e.g.
        :class:`psfl.phy.UplinkLink`.
    snr_db : float | [batch]
        Link SNR (Es/N0, dB).

    Output (:meth:`transmit`)
    ------
    images_hat : [batch, height, width, 3], np.float32
        Received images (fallback where lost).
    info : dict of [batch] np.ndarray
        ``success`` (CRC passed and the image decoded), ``crc_ok``, ``source_fit`` (the image
        fitted the payload), ``decode_error`` (CRC passed but the stream did not decode),
        ``undetected_error`` (genie: CRC passed although bits differ), ``mcs``,
        ``bits_per_symbol``, ``code_rate`` (payload bits per coded bit), ``payload_bits``,
        ``source_bits`` (side header plus stream used), ``quality`` (-1 if nothing fitted),
        ``scale`` (1, 2 or 0), ``num_symbols`` (always ``k``), ``snr_db``, ``psnr``.
    """

    def __init__(
        self,
        k: int,
        mcs: int | None = None,
        codec: str = "jpeg",
        fallback: float | Sequence[float] = 0.5,
        margin_db: float = 0.0,
        thresholds_db: dict[int, float] | None = None,
        downscale: bool = True,
        num_iter: int = 20,
        mode: str = "graph",
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k={k!r} must be a positive integer number of channel uses")
        self.k = int(k)
        self._coder = source_coder(codec)
        self.codec = codec
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.mode = mode
        if not isinstance(num_iter, int) or num_iter < 1:
            raise ValueError(f"num_iter={num_iter!r} must be a positive integer")
        self.num_iter = num_iter
        self.fallback = fallback_colour(fallback)
        if not math.isfinite(margin_db):
            raise ValueError(f"margin_db={margin_db!r} must be a finite number of dB")
        self.margin_db = float(margin_db)
        self.downscale = bool(downscale)
        self._table = {m.index: m for m in mcs_table(thresholds_db)}
        self._formats = _formats(self.k, self._table)
        self._usable = self._usable_indices(mcs)
        self.mcs = mcs
        self._chains: dict[int, TransportChain] = {}

    def _usable_indices(self, mcs: int | None) -> list[int]:
        """MCS indices whose payload holds the coder's minimum; checks a fixed ``mcs``."""
        if mcs is not None:
            if mcs not in self._table:
                raise ValueError(
                    f"mcs={mcs!r} is unknown; use an index {MCS_INDICES[0]}..{MCS_INDICES[-1]} "
                    "of 3GPP TS 38.214 Table 5.1.3.1-2 or None to select by SNR"
                )
            transport_format(self.k, self._table[mcs])  # raises with the reason if k is too small
        min_bytes = self._coder.min_payload_bytes()
        usable = [i for i, f in self._formats.items() if f.payload_bytes >= min_bytes]
        if mcs is not None and mcs not in usable or not usable:
            which = f"MCS {mcs}" if mcs is not None else "any MCS"
            raise ValueError(
                f"k={self.k} channel uses are too small for {which}: the payload must hold at "
                f"least {min_bytes} bytes ({self.codec} side header plus one byte); increase k "
                f"(the semantic codec's k = bandwidth ratio x image size)"
            )
        return sorted(usable)

    # -- MCS ------------------------------------------------------------------------------

    def mcs_table(self) -> tuple[MCS, ...]:
        """MCS entries usable with this ``k``, in increasing spectral efficiency."""
        return tuple(self._table[i] for i in self._usable)

    def transport_format(self, mcs: int) -> TransportFormat:
        """Transport layout of MCS index ``mcs`` for this ``k``."""
        if mcs not in self._usable:
            raise ValueError(
                f"mcs={mcs!r} is not usable with k={self.k}; use one of {self._usable}"
            )
        return self._formats[mcs]

    def select_mcs(self, snr_db: float | np.ndarray) -> np.ndarray:
        """MCS index per SNR.

        Input
        -----
        snr_db : float | [batch]
            Link SNR (dB).

        Output
        ------
        : [] or [batch], np.int64
            The fixed MCS if one was given, else the highest usable MCS whose threshold plus
            ``margin_db`` is at most ``snr_db`` (the lowest usable MCS below all thresholds).
        """
        snr = check_snr(snr_db)
        if self.mcs is not None:
            return np.full(snr.shape, self.mcs, np.int64)
        idx = np.asarray(self._usable)
        th = np.asarray([self._table[i].threshold_db for i in self._usable]) + self.margin_db
        n_ok = np.sum(th[None, :] <= snr.reshape(-1, 1), axis=1)
        return idx[np.maximum(n_ok - 1, 0)].reshape(snr.shape)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _check_images(images: Any) -> np.ndarray:
        x = images.numpy() if isinstance(images, tf.Tensor) else np.asarray(images)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(
                f"images must have shape [batch, height, width, 3], got {x.shape}; add a batch "
                "axis with x[None] or convert grey images to RGB"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(
                f"images must be float in [0, 1], got dtype {x.dtype}; use x.astype('float32') / 255"
            )
        if x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
            raise ValueError(f"images must not be empty, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("images contain NaN or inf; clean the input")
        if x.min() < 0.0 or x.max() > 1.0:
            raise ValueError(
                f"images must be in [0, 1], got [{x.min():.3g}, {x.max():.3g}]; rescale "
                "(x / 255 for 8-bit data)"
            )
        return x.astype(np.float32)

    def _chain(self, mcs: int) -> TransportChain:
        if mcs not in self._chains:
            self._chains[mcs] = TransportChain(self._formats[mcs], self.num_iter, self.mode)
        return self._chains[mcs]

    # -- source only ----------------------------------------------------------------------

    def source_roundtrip(
        self, images: Any, mcs: int | np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Source coding only, over an error-free channel with the payload of ``mcs``.

        Input
        -----
        images : [batch, height, width, 3], float32 in [0, 1]
        mcs : int | [batch]
            MCS index per image (sets the payload size).

        Output
        ------
        images_hat : [batch, height, width, 3], np.float32
        info : dict of [batch] np.ndarray
            ``quality``, ``scale``, ``source_bits``, ``source_fit``, ``psnr``.
        """
        x = self._check_images(images)
        mcs_arr = np.broadcast_to(np.asarray(mcs, np.int64), (x.shape[0],))
        u8 = to_uint8(x)
        out = np.empty_like(x)
        q, s, nb = (np.zeros(len(x), np.int64) for _ in range(3))
        for i, (img, m) in enumerate(zip(u8, mcs_arr, strict=True)):
            coded = source_encode(
                img, self._coder, self.transport_format(int(m)).payload_bytes, self.downscale
            )
            rec = self._coder.decode(coded.payload, *img.shape[:2])
            out[i] = self.fallback if rec is None else rec.astype(np.float32) / 255.0
            q[i], s[i], nb[i] = coded.quality, coded.scale, 8 * coded.source_bytes
        info = {"quality": q, "scale": s, "source_bits": nb, "source_fit": q >= 0,
                "psnr": psnr(out, x)}  # fmt: skip
        return out, info

    # -- end to end -----------------------------------------------------------------------

    def transmit(
        self,
        images: Any,
        link: LinkFn,
        snr_db: float | np.ndarray,
        mcs_snr_db: float | np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Sends images through ``link``; see the class docstring for inputs and outputs.

        ``mcs_snr_db`` (default: ``snr_db``) is the SNR the MCS is selected for. Pass it when
        ``snr_db`` is not the actual SNR, e.g. the offset that the path-loss channels
        (umi/uma/rma) of :class:`psfl.phy.UplinkLink` add to their link budget.
        """
        x = self._check_images(images)
        if not callable(link):
            raise ValueError("link must be callable as link(x, snr_db) -> (y, no_eff)")
        batch, height, width, _ = x.shape
        snr = per_item(snr_db, batch, "snr_db")
        sel_snr = snr if mcs_snr_db is None else per_item(mcs_snr_db, batch, "mcs_snr_db")
        mcs = self.select_mcs(sel_snr)
        u8 = to_uint8(x)
        out = np.empty_like(x)
        info = _empty_info(mcs, snr)
        for m in np.unique(mcs):
            sel = np.flatnonzero(mcs == m)
            fmt = self._formats[int(m)]
            coded = encode_all(u8[sel], self._coder, fmt.payload_bytes, self.downscale)
            for i, c in zip(sel, coded, strict=True):
                info["quality"][i], info["scale"][i] = c.quality, c.scale
                info["source_bits"][i] = 8 * c.source_bytes
                info["source_fit"][i] = c.quality >= 0
            bits = np.unpackbits(np.frombuffer(b"".join(c.payload for c in coded), np.uint8))
            bits = bits.reshape(len(sel), fmt.payload_bits).astype(np.float32)
            bits_hat, ok = self._send_blocks(int(m), bits, link, snr[sel])
            info["crc_ok"][sel] = ok
            info["undetected_error"][sel] = ok & np.any(bits_hat != bits, axis=1)
            info["bits_per_symbol"][sel] = fmt.mcs.bits_per_symbol
            info["code_rate"][sel] = fmt.code_rate
            info["payload_bits"][sel] = fmt.payload_bits
            info["num_symbols"][sel] = fmt.k
            rx = np.packbits(bits_hat.astype(np.uint8), axis=1)
            for j, i in enumerate(sel):
                out[i] = decode_or_fallback(self._coder, rx[j].tobytes() if ok[j] else None,
                                            height, width, self.fallback, info, i)
        info["psnr"] = psnr(out, x)
        return out, info

    def _send_blocks(self, mcs: int, bits: np.ndarray, link: LinkFn,
                     snr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Payload bits [n, payload_bits] through the chain of ``mcs`` and ``link``:
        ``(bits_hat, crc_ok)`` as numpy."""
        chain = self._chain(mcs)
        sym = chain.encode(tf.constant(bits))
        y, no = link(sym, tf.constant(snr, tf.float32))
        y = tf.convert_to_tensor(y)
        if y.shape != sym.shape or y.dtype != tf.complex64:
            raise ValueError(
                f"link returned y of shape {y.shape} and dtype {y.dtype}; expected "
                f"{sym.shape} complex64 (one equalized symbol per channel use, same order)"
            )
        no = tf.broadcast_to(tf.cast(no, tf.float32), y.shape)
        bits_hat, ok = chain.decode(y, no)
        return bits_hat.numpy(), ok.numpy()

def _formats(k: int, table: dict[int, MCS]) -> dict[int, TransportFormat]:
    """Transport formats of the MCS indices of ``table`` that have one for ``k``."""
    formats: dict[int, TransportFormat] = {}
    for i, entry in table.items():
        try:
            formats[i] = transport_format(k, entry)
        except ValueError:
            continue
    return formats


def _empty_info(mcs: np.ndarray, snr: np.ndarray) -> dict[str, np.ndarray]:
    """The per-image ``info`` of :meth:`DigitalBaseline.transmit` before anything is sent."""
    batch = len(mcs)
    return {
        "success": np.zeros(batch, bool),
        "crc_ok": np.zeros(batch, bool),
        "source_fit": np.zeros(batch, bool),
        "decode_error": np.zeros(batch, bool),
        "undetected_error": np.zeros(batch, bool),
        "mcs": mcs.astype(np.int64),
        "bits_per_symbol": np.zeros(batch, np.int64),
        "code_rate": np.zeros(batch, np.float32),
        "payload_bits": np.zeros(batch, np.int64),
        "source_bits": np.zeros(batch, np.int64),
        "quality": np.full(batch, -1, np.int64),
        "scale": np.zeros(batch, np.int64),
        "num_symbols": np.zeros(batch, np.int64),
        "snr_db": snr.astype(np.float32),
    }
