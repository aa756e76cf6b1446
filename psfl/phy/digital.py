"""Digital baseline: separate source and channel coding over the same channel uses.

The learned semantic codecs send ``k`` complex channel uses per image. The digital baseline gets
exactly the same budget and spends it the classic way:

1. **MCS.** A modulation order ``m`` and LDPC code rate ``R`` are taken from the 3GPP TS 38.214
   MCS table 2 (Table 5.1.3.1-2, up to 256-QAM, via :func:`sionna.phy.nr.utils.decode_mcs_index`).
   Indices 0 and 1 are left out because Sionna's 5G LDPC encoder supports no rate below 1/5
   (their rates are 0.117 and 0.188). The MCS is either fixed by the user or picked per image by
   :meth:`DigitalBaseline.select_mcs`: the highest MCS whose 10 %-BLER threshold SNR (plus
   ``margin_db``) does not exceed the link SNR; below every threshold the lowest MCS is used.
   The default thresholds were measured on AWGN with ``k = 512`` by
   :func:`calibrate_mcs_thresholds` (see :data:`DEFAULT_THRESHOLDS_DB`).
2. **Bit budget.** ``k`` symbols carry ``k*m`` coded bits, of which ``floor(k*m*R)`` are
   information bits. Removing the 24 CRC bits and rounding down to whole bytes gives the payload
   of ``P = floor((floor(k*m*R) - 24) / 8)`` bytes (:func:`transport_format`).
3. **Source coding.** JPEG (libjpeg via PIL, 4:2:0, standard Huffman tables) or lossy WebP at the
   highest quality whose stream fits the payload (bisection over quality 1..100 / 0..100).
   A 32x32 JPEG file is ~650 bytes, ~620 of them header, which no realistic budget for such an
   image carries. The JPEG stream is therefore sent *abbreviated*, as RTP/JPEG (RFC 2435) does:
   only one side byte (quality and scale) and the entropy-coded scan go over the air; the receiver
   rebuilds the header, which is a deterministic function of quality and image size. WebP is sent
   without its 20-byte RIFF/chunk header, with a 3-byte side header (scale and stream length)
   instead. If even the lowest quality does not fit, the image is downscaled by 2 (box filter),
   coded, and upscaled (bicubic) at the receiver; ``info["scale"]`` records it. If that does not
   fit either, a "no image" marker is sent, the receiver shows the fallback and
   ``info["source_fit"]`` is ``False``.
4. **Channel coding.** The payload gets a CRC24A (one check for the whole transport block), is
   split into ``C = ceil((8P + 24) / 8448)`` equal LDPC code blocks (zero filler bits up to
   equal size), each 5G-NR LDPC coded with rate matching to ``E`` bits (a multiple of ``m``;
   Sionna :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` with the 38.212 output interleaver). The
   fewer than ``C*m`` bits left over up to ``k*m`` are filled with zeros. All coded bits are
   scrambled with the 38.211 Gold sequence (so the QAM symbols have unit average power whatever
   the payload), mapped to ``k`` QAM symbols and sent through the link.
5. **Receiver.** "app" demapping with the per-symbol noise variance the link returns,
   descrambling, 5G LDPC belief propagation (boxplus-phi, 20 iterations, flooding), CRC check.
   A failed CRC loses the image: it is replaced by the ``fallback`` image (mid-grey 0.5 by
   default, or a given RGB colour such as the data-set mean) and ``info["success"]`` is
   ``False``.

PSNR here is ``10 log10(1 / MSE)`` per image on the [0, 1] scale against the float input, with the
MSE floored at 1e-10 (100 dB) so that lossless results stay finite.
"""

from __future__ import annotations

import functools
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
from PIL import Image
from sionna.phy.fec.crc import CRCDecoder, CRCEncoder
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper
from sionna.phy.nr.utils import decode_mcs_index, generate_prng_seq

__all__ = [
    "CODECS",
    "DEFAULT_THRESHOLDS_DB",
    "MCS",
    "DigitalBaseline",
    "TransportChain",
    "TransportFormat",
    "block_error_rate",
    "calibrate_mcs_thresholds",
    "link_mcs_thresholds",
    "mcs_table",
    "transport_format",
]

CODECS = ("jpeg", "webp")
"""Source codecs offered by :class:`DigitalBaseline`."""

MCS_TABLE_INDEX = 2
"""3GPP TS 38.214 MCS table used (Table 5.1.3.1-2, up to 256-QAM)."""

MCS_INDICES = tuple(range(2, 28))
"""MCS indices of that table whose code rate Sionna's 5G LDPC encoder supports (R >= 1/5)."""

CRC_POLY = "CRC24A"
CRC_LENGTH = 24
MAX_CB_INFO_BITS = 8448  # largest 5G LDPC code block (base graph 1), 38.212 5.2.2
SCRAMBLING_C_INIT = 0x5F5F  # fixed c_init of the 38.211 Gold sequence; any agreed value works
MIN_NOISE_VAR = 1e-6  # floor on the link's noise variance so that LLRs stay finite (~60 dB)

# Es/N0 (dB) at which the block error rate of the CRC24A + LDPC + QAM chain crosses 10 % on
# AWGN for k = 512 channel uses, 20 BP iterations, "app" demapping. Measured with
# ``calibrate_mcs_thresholds(k=512, target_bler=0.1, num_blocks=200, resolution_db=0.1)`` on
# 2026-11-25 (bisection to 0.1 dB). Longer blocks have slightly lower thresholds, shorter ones higher;
# recalibrate for very different k or channels, or add ``margin_db``.
DEFAULT_THRESHOLDS_DB: dict[int, float] = {
    2: -1.3, 3: 0.7, 4: 2.5, 5: 4.3, 6: 5.2, 7: 6.2, 8: 7.2, 9: 8.1, 10: 8.8,
    11: 9.7, 12: 10.7, 13: 11.8, 14: 12.7, 15: 13.7, 16: 14.6, 17: 15.5, 18: 16.5, 19: 17.6,
    20: 18.7, 21: 19.1, 22: 20.2, 23: 21.2, 24: 22.1, 25: 23.2, 26: 24.1, 27: 25.1,
}  # fmt: skip


@dataclass(frozen=True)
class MCS:
    """One modulation and coding scheme.

    Parameters
    ----------
    index : int
        Index in 3GPP TS 38.214 Table 5.1.3.1-2.
    bits_per_symbol : int
        QAM modulation order ``m`` (2, 4, 6 or 8).
    code_rate : float
        Target LDPC code rate ``R``.
    threshold_db : float
        Es/N0 (dB) of 10 % block error rate on AWGN, used by the selection rule.
    """

    index: int
    bits_per_symbol: int
    code_rate: float
    threshold_db: float

    @property
    def spectral_efficiency(self) -> float:
        """Information bits per channel use, ``m * R``."""
        return self.bits_per_symbol * self.code_rate


def mcs_table(thresholds_db: dict[int, float] | None = None) -> tuple[MCS, ...]:
    """Returns the MCS table of the digital baseline.

    Parameters
    ----------
    thresholds_db : `None` (default) | dict
        Threshold SNR per MCS index; missing indices use :data:`DEFAULT_THRESHOLDS_DB`.

    Output
    ------
    : tuple of :class:`MCS`
        One entry per index in :data:`MCS_INDICES`, in increasing spectral efficiency.
    """
    th = dict(DEFAULT_THRESHOLDS_DB)
    if thresholds_db is not None:
        unknown = sorted(set(thresholds_db) - set(MCS_INDICES))
        if unknown:
            raise ValueError(
                f"thresholds_db has unknown MCS indices {unknown}; use indices "
                f"{MCS_INDICES[0]}..{MCS_INDICES[-1]}"
            )
        th.update({int(i): float(v) for i, v in thresholds_db.items()})
    m, r = decode_mcs_index(list(MCS_INDICES), table_index=MCS_TABLE_INDEX, is_pusch=True)
    return tuple(
        MCS(i, int(mi), float(ri), th[i])
        for i, mi, ri in zip(MCS_INDICES, m.numpy(), r.numpy(), strict=True)
    )


@dataclass(frozen=True)
class TransportFormat:
    """Bit-level layout of one image's transport block over ``k`` channel uses.

    Parameters
    ----------
    k : int
        Complex channel uses (QAM symbols) per image.
    mcs : MCS
        Modulation and coding scheme.
    payload_bytes : int
        Source bytes carried, ``floor((floor(k*m*R) - 24) / 8)``.
    num_cb : int
        Number of LDPC code blocks ``C``.
    cb_info_bits : int
        Information bits per code block (CRC-protected payload plus filler).
    cb_coded_bits : int
        Coded bits per code block after rate matching, a multiple of ``m``.
    """

    k: int
    mcs: MCS
    payload_bytes: int
    num_cb: int
    cb_info_bits: int
    cb_coded_bits: int

    @property
    def payload_bits(self) -> int:
        """Source bits carried per image."""
        return 8 * self.payload_bytes

    @property
    def tb_bits(self) -> int:
        """Payload plus CRC bits."""
        return self.payload_bits + CRC_LENGTH

    @property
    def filler_bits(self) -> int:
        """Zero bits appended so that all code blocks have equal size."""
        return self.num_cb * self.cb_info_bits - self.tb_bits

    @property
    def coded_bits(self) -> int:
        """All coded bits per image, ``k*m``."""
        return self.k * self.mcs.bits_per_symbol

    @property
    def pad_bits(self) -> int:
        """Zero bits after the code blocks that complete ``k*m`` (fewer than ``C*m``)."""
        return self.coded_bits - self.num_cb * self.cb_coded_bits

    @property
    def code_rate(self) -> float:
        """Effective rate: payload bits per coded bit."""
        return self.payload_bits / self.coded_bits


def transport_format(k: int, mcs: MCS) -> TransportFormat:
    """Computes the transport block layout for ``k`` channel uses and an MCS.

    Parameters
    ----------
    k : int
        Complex channel uses per image.
    mcs : MCS
        Modulation and coding scheme.

    Output
    ------
    : TransportFormat
        The layout; raises `ValueError` if ``k`` is too small for this MCS.
    """
    m = mcs.bits_per_symbol
    n_bits = k * m
    payload_bytes = (math.floor(n_bits * mcs.code_rate) - CRC_LENGTH) // 8
    if payload_bytes < 1:
        raise ValueError(
            f"k={k} channel uses are too small for any payload at MCS {mcs.index} "
            f"({m} bits/symbol, rate {mcs.code_rate:.3f}): floor(k*m*R)={math.floor(n_bits * mcs.code_rate)} "
            f"bits do not cover the {CRC_LENGTH}-bit CRC plus one byte; increase k or use a higher MCS"
        )
    tb = 8 * payload_bytes + CRC_LENGTH
    num_cb = math.ceil(tb / MAX_CB_INFO_BITS)
    cb_info = math.ceil(tb / num_cb)
    cb_coded = (n_bits // (num_cb * m)) * m
    if cb_info < 12 or cb_coded <= 0 or cb_info / cb_coded > 0.95:
        raise ValueError(
            f"k={k} channel uses are too small for a 5G LDPC code block at MCS {mcs.index} "
            f"({cb_info} info bits into {cb_coded} coded bits); increase k"
        )
    return TransportFormat(k, mcs, payload_bytes, num_cb, cb_info, cb_coded)


class TransportChain:
    # pylint: disable=line-too-long
    r"""CRC24A + 5G LDPC + scrambling + QAM for one :class:`TransportFormat`, batched in TF.

    Parameters
    ----------
    fmt : TransportFormat
        Layout (``k``, MCS, code blocks).
    num_iter : int (default 20)
        LDPC belief-propagation iterations.
    mode : "graph" (default) | "xla" | "eager"
        Run the encoder and decoder as ``tf.function``, ``tf.function(jit_compile=True)`` or
        eagerly.

    Input (:meth:`encode`)
    -----
    bits : [batch, payload_bits], tf.float32
        Payload bits (0/1).

    Output (:meth:`encode`)
    ------
    : [batch, k], tf.complex64
        Unit-average-power QAM symbols.

    Input (:meth:`decode`)
    -----
    y : [batch, k], tf.complex64
        Equalized received symbols.
    no : [batch, k], tf.float32
        Noise variance per symbol.

    Output (:meth:`decode`)
    ------
    bits_hat : [batch, payload_bits], tf.float32
        Decoded payload bits.
    crc_ok : [batch], tf.bool
        Whether the CRC24A of the transport block holds.
    """

    def __init__(self, fmt: TransportFormat, num_iter: int = 20, mode: str = "graph") -> None:
        if mode not in ("graph", "xla", "eager"):
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.fmt = fmt
        m = fmt.mcs.bits_per_symbol
        self._crc_enc = CRCEncoder(CRC_POLY)
        self._crc_dec = CRCDecoder(self._crc_enc)
        self._ldpc_enc = LDPC5GEncoder(fmt.cb_info_bits, fmt.cb_coded_bits, num_bits_per_symbol=m)
        self._ldpc_dec = LDPC5GDecoder(self._ldpc_enc, num_iter=num_iter, hard_out=True)
        self._mapper = Mapper("qam", m)
        self._demapper = Demapper("app", "qam", m)
        scr = generate_prng_seq(fmt.coded_bits, SCRAMBLING_C_INIT).astype(np.float32)
        self._scr = tf.constant(scr)
        self._sign = tf.constant(1.0 - 2.0 * scr)
        if mode == "eager":
            self.encode, self.decode = self._encode, self._decode
        else:
            jit = mode == "xla"
            self.encode = tf.function(
                self._encode,
                jit_compile=jit,
                input_signature=[tf.TensorSpec([None, fmt.payload_bits], tf.float32)],
            )
            self.decode = tf.function(
                self._decode,
                jit_compile=jit,
                input_signature=[
                    tf.TensorSpec([None, fmt.k], tf.complex64),
                    tf.TensorSpec([None, fmt.k], tf.float32),
                ],
            )

    def _encode(self, bits: tf.Tensor) -> tf.Tensor:
        f = self.fmt
        batch = tf.shape(bits)[0]
        b = self._crc_enc(bits)
        b = tf.concat([b, tf.zeros([batch, f.filler_bits], tf.float32)], axis=-1)
        b = tf.reshape(b, [batch, f.num_cb, f.cb_info_bits])
        c = self._ldpc_enc(b)
        c = tf.reshape(c, [batch, f.num_cb * f.cb_coded_bits])
        c = tf.concat([c, tf.zeros([batch, f.pad_bits], tf.float32)], axis=-1)
        c = tf.math.floormod(c + self._scr, 2.0)
        return self._mapper(c)

    def _decode(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        f = self.fmt
        batch = tf.shape(y)[0]
        no = tf.maximum(no, MIN_NOISE_VAR)
        llr = self._demapper(y, no) * self._sign
        llr = llr[:, : f.num_cb * f.cb_coded_bits]
        llr = tf.reshape(llr, [batch, f.num_cb, f.cb_coded_bits])
        u = self._ldpc_dec(llr)
        u = tf.reshape(u, [batch, f.num_cb * f.cb_info_bits])[:, : f.tb_bits]
        bits, ok = self._crc_dec(u)
        return bits, ok[:, 0]


# ---------------------------------------------------------------------------------------------
# Source coding
# ---------------------------------------------------------------------------------------------

_JPEG_SUBSAMPLING = 2  # 4:2:0, libjpeg's usual choice; the receiver's header assumes it
_WEBP_HEADER_BYTES = 3


def _split_jpeg(stream: bytes) -> tuple[bytes, bytes]:
    """Splits a baseline JPEG file into (header up to and including SOS, scan without EOI)."""
    i = stream.index(b"\xff\xda")
    sos_len = int.from_bytes(stream[i + 2 : i + 4], "big")
    return stream[: i + 2 + sos_len], stream[i + 2 + sos_len : -2]


def _jpeg_encode(img: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality, subsampling=_JPEG_SUBSAMPLING)
    return buf.getvalue()


@functools.lru_cache(maxsize=512)
def _jpeg_header(quality: int, height: int, width: int) -> bytes:
    """Header the receiver prepends: it depends on quality and size only (standard tables)."""
    return _split_jpeg(_jpeg_encode(np.zeros((height, width, 3), np.uint8), quality))[0]


def _webp_encode(img: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "WEBP", quality=quality, lossless=False)
    data = buf.getvalue()
    if data[12:16] != b"VP8 ":
        raise RuntimeError("PIL wrote an extended WebP file; expected a simple lossy 'VP8 ' file")
    size = int.from_bytes(data[16:20], "little")
    return data[20 : 20 + size]


def _webp_wrap(vp8: bytes) -> bytes:
    pad = b"\x00" if len(vp8) % 2 else b""
    riff = 4 + 8 + len(vp8) + len(pad)
    return (
        b"RIFF" + riff.to_bytes(4, "little") + b"WEBPVP8 "
        + len(vp8).to_bytes(4, "little") + vp8 + pad
    )  # fmt: skip


def _downscale(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BOX))


def _upscale(img: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((width, height), Image.Resampling.BICUBIC))


def _bisect_quality(size_of: Callable[[int], int], lo: int, hi: int, budget: int) -> int | None:
    """Highest quality in [lo, hi] whose size fits ``budget`` (size is monotone up to rare
    one-byte wiggles, so bisection may miss a slightly higher quality but never returns one
    that does not fit)."""
    if size_of(lo) > budget:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size_of(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass(frozen=True)
class _Coded:
    payload: bytes  # exactly payload_bytes long
    quality: int  # -1 if nothing fitted
    scale: int  # 1, 2, or 0 if nothing fitted
    source_bytes: int  # side header + stream actually used


def _fit_one_scale(im: np.ndarray, codec: str, payload_bytes: int, scale: int) -> _Coded | None:
    """Highest-quality stream of ``im`` (already at ``scale``) that fits, or ``None``."""
    h, w = im.shape[:2]
    if codec == "jpeg":

        @functools.cache
        def scan(q: int) -> bytes:
            return _split_jpeg(_jpeg_encode(im, q))[1]

        q = _bisect_quality(lambda q: len(scan(q)), 1, 100, payload_bytes - 1)
        if q is None:
            return None
        hdr = _split_jpeg(_jpeg_encode(im, q))[0]
        if hdr != _jpeg_header(q, h, w):
            raise RuntimeError("JPEG header is not the one the receiver rebuilds")
        body = bytes([q | (0x80 if scale == 2 else 0)]) + scan(q)
        # 0xFF fill bytes before the EOI marker are legal JPEG (T.81 B.1.1.2)
        return _Coded(body + b"\xff" * (payload_bytes - len(body)), q, scale, len(body))

    @functools.cache
    def vp8(q: int) -> bytes:
        return _webp_encode(im, q)

    budget = min(payload_bytes - _WEBP_HEADER_BYTES, (1 << 23) - 1)
    q = _bisect_quality(lambda q: len(vp8(q)), 0, 100, budget) if budget > 0 else None
    if q is None:
        return None
    side = (len(vp8(q)) | (1 << 23 if scale == 2 else 0)).to_bytes(_WEBP_HEADER_BYTES, "big")
    body = side + vp8(q)
    return _Coded(body + b"\x00" * (payload_bytes - len(body)), q, scale, len(body))


def _source_encode(img: np.ndarray, codec: str, payload_bytes: int, downscale: bool) -> _Coded:
    """Codes ``img`` into exactly ``payload_bytes``: full resolution and, if allowed, half
    resolution are each coded at the highest quality that fits, and the one with the lower MSE
    is kept (the transmitter knows the original); a 'no image' marker if neither fits."""
    height, width = img.shape[:2]
    best, best_mse = None, math.inf
    scales = (1, 2) if downscale and min(height, width) >= 2 else (1,)
    for scale in scales:
        coded = _fit_one_scale(img if scale == 1 else _downscale(img), codec, payload_bytes, scale)
        if coded is None:
            continue
        rec = _source_decode(coded.payload, codec, height, width)
        mse = float(np.mean((rec.astype(np.float64) - img) ** 2))
        if mse < best_mse:
            best, best_mse = coded, mse
    if best is None:
        return _Coded(b"\x00" * payload_bytes, -1, 0, 0)
    return best


def _source_decode(payload: bytes, codec: str, height: int, width: int) -> np.ndarray | None:
    """Decodes a received payload; ``None`` for the 'no image' marker."""
    if codec == "jpeg":
        q, scale = payload[0] & 0x7F, 2 if payload[0] & 0x80 else 1
        if not 1 <= q <= 100:
            return None
        h, w = (height, width) if scale == 1 else ((height + 1) // 2, (width + 1) // 2)
        stream = _jpeg_header(q, h, w) + payload[1:].rstrip(b"\xff") + b"\xff\xd9"
    else:
        side = int.from_bytes(payload[:_WEBP_HEADER_BYTES], "big")
        n, scale = side & ((1 << 23) - 1), 2 if side >> 23 else 1
        if n == 0 or n > len(payload) - _WEBP_HEADER_BYTES:
            return None
        stream = _webp_wrap(payload[_WEBP_HEADER_BYTES : _WEBP_HEADER_BYTES + n])
    with Image.open(io.BytesIO(stream)) as im:
        img = np.asarray(im.convert("RGB"))
    if scale == 2:
        img = _upscale(img, height, width)
    if img.shape != (height, width, 3):
        raise ValueError(f"decoded image has shape {img.shape}, expected {(height, width, 3)}")
    return img


def _psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PSNR (dB) per image on the [0, 1] scale, MSE floored at 1e-10."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(1, 2, 3))
    return (10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))).astype(np.float32)


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# The baseline
# ---------------------------------------------------------------------------------------------

LinkFn = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


class DigitalBaseline:
    # pylint: disable=line-too-long
    r"""JPEG/WebP + CRC24A + 5G LDPC + QAM over ``k`` channel uses per image.

    See the module docstring for the complete scheme, the bit budget and the fallback.

    Parameters
    ----------
    k : int
        Complex channel uses per image (the same ``k`` the semantic codec uses).
    mcs : `None` (default) | int
        Fixed MCS index (2..27 of 38.214 Table 5.1.3.1-2); `None` selects per image by SNR.
    codec : "jpeg" (default) | "webp"
        Source codec.
    fallback : float | sequence of 3 floats (default 0.5)
        Grey level or RGB colour in [0, 1] shown when an image is lost.
    margin_db : float (default 0.0)
        Added to every threshold in the MCS selection rule (backoff for fading channels).
    thresholds_db : `None` (default) | dict
        Per-MCS threshold overrides, e.g. from :func:`calibrate_mcs_thresholds`.
    downscale : bool (default `True`)
        Allow halving the resolution when the lowest quality does not fit.
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
        if codec not in CODECS:
            raise ValueError(f"codec={codec!r} is unknown; use one of {', '.join(CODECS)}")
        self.codec = codec
        if mode not in ("graph", "xla", "eager"):
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.mode = mode
        if not isinstance(num_iter, int) or num_iter < 1:
            raise ValueError(f"num_iter={num_iter!r} must be a positive integer")
        self.num_iter = num_iter
        fb = np.asarray(fallback, np.float32).reshape(-1)
        if fb.size not in (1, 3) or not np.all(np.isfinite(fb)) or fb.min() < 0 or fb.max() > 1:
            raise ValueError(
                f"fallback={fallback!r} must be a grey level or an RGB triple in [0, 1]"
            )
        self.fallback = np.broadcast_to(fb, (3,)).copy()
        if not math.isfinite(margin_db):
            raise ValueError(f"margin_db={margin_db!r} must be a finite number of dB")
        self.margin_db = float(margin_db)
        self.downscale = bool(downscale)
        self._table = {m.index: m for m in mcs_table(thresholds_db)}
        self._formats: dict[int, TransportFormat] = {}
        for i, entry in self._table.items():
            try:
                self._formats[i] = transport_format(self.k, entry)
            except ValueError:
                continue
        if mcs is not None:
            if mcs not in self._table:
                raise ValueError(
                    f"mcs={mcs!r} is unknown; use an index {MCS_INDICES[0]}..{MCS_INDICES[-1]} "
                    "of 3GPP TS 38.214 Table 5.1.3.1-2 or None to select by SNR"
                )
            transport_format(self.k, self._table[mcs])  # raises with the reason if k is too small
        min_bytes = 2 if codec == "jpeg" else _WEBP_HEADER_BYTES + 1
        usable = [i for i, f in self._formats.items() if f.payload_bytes >= min_bytes]
        if mcs is not None and mcs not in usable or not usable:
            which = f"MCS {mcs}" if mcs is not None else "any MCS"
            raise ValueError(
                f"k={self.k} channel uses are too small for {which}: the payload must hold at "
                f"least {min_bytes} bytes ({codec} side header plus one byte); increase k "
                f"(the semantic codec's k = bandwidth ratio x image size)"
            )
        self._usable = sorted(usable)
        self.mcs = mcs
        self._chains: dict[int, TransportChain] = {}

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
        snr = self._check_snr(snr_db)
        if self.mcs is not None:
            return np.full(snr.shape, self.mcs, np.int64)
        idx = np.asarray(self._usable)
        th = np.asarray([self._table[i].threshold_db for i in self._usable]) + self.margin_db
        n_ok = np.sum(th[None, :] <= snr.reshape(-1, 1), axis=1)
        return idx[np.maximum(n_ok - 1, 0)].reshape(snr.shape)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _check_snr(snr_db: Any) -> np.ndarray:
        try:
            snr = np.asarray(snr_db, np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"snr_db={snr_db!r} must be a number or an array of dB") from exc
        if snr.ndim > 1:
            raise ValueError(f"snr_db must be a scalar or [batch], got shape {snr.shape}")
        if not np.all(np.isfinite(snr)):
            raise ValueError(f"snr_db={snr_db!r} must be finite; give the SNR in dB (e.g. 10.0)")
        return snr

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
        u8 = _to_uint8(x)
        out = np.empty_like(x)
        q, s, nb = (np.zeros(len(x), np.int64) for _ in range(3))
        for i, (img, m) in enumerate(zip(u8, mcs_arr, strict=True)):
            coded = _source_encode(
                img, self.codec, self.transport_format(int(m)).payload_bytes, self.downscale
            )
            rec = _source_decode(coded.payload, self.codec, *img.shape[:2])
            out[i] = self.fallback if rec is None else rec.astype(np.float32) / 255.0
            q[i], s[i], nb[i] = coded.quality, coded.scale, 8 * coded.source_bytes
        info = {"quality": q, "scale": s, "source_bits": nb, "source_fit": q >= 0,
                "psnr": _psnr(out, x)}  # fmt: skip
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
        snr = self._check_snr(snr_db)
        if snr.ndim == 1 and snr.shape[0] != batch:
            raise ValueError(
                f"snr_db has {snr.shape[0]} entries for {batch} images; give one or {batch}"
            )
        snr = np.broadcast_to(snr, (batch,))
        sel_snr = snr if mcs_snr_db is None else self._check_snr(mcs_snr_db)
        if sel_snr.ndim == 1 and sel_snr.shape[0] != batch:
            raise ValueError(
                f"mcs_snr_db has {sel_snr.shape[0]} entries for {batch} images; give one or {batch}"
            )
        mcs = self.select_mcs(np.broadcast_to(sel_snr, (batch,)))
        u8 = _to_uint8(x)
        out = np.empty_like(x)
        info: dict[str, np.ndarray] = {
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
        for m in np.unique(mcs):
            sel = np.flatnonzero(mcs == m)
            fmt = self._formats[int(m)]
            chain = self._chain(int(m))
            payloads = []
            for i in sel:
                coded = _source_encode(u8[i], self.codec, fmt.payload_bytes, self.downscale)
                payloads.append(coded.payload)
                info["quality"][i], info["scale"][i] = coded.quality, coded.scale
                info["source_bits"][i] = 8 * coded.source_bytes
                info["source_fit"][i] = coded.quality >= 0
            bits = np.unpackbits(np.frombuffer(b"".join(payloads), np.uint8))
            bits = bits.reshape(len(sel), fmt.payload_bits).astype(np.float32)
            sym = chain.encode(tf.constant(bits))
            y, no = link(sym, tf.constant(snr[sel], tf.float32))
            y = tf.convert_to_tensor(y)
            if y.shape != sym.shape or y.dtype != tf.complex64:
                raise ValueError(
                    f"link returned y of shape {y.shape} and dtype {y.dtype}; expected "
                    f"{sym.shape} complex64 (one equalized symbol per channel use, same order)"
                )
            no = tf.broadcast_to(tf.cast(no, tf.float32), y.shape)
            bits_hat, ok = chain.decode(y, no)
            bits_hat, ok = bits_hat.numpy(), ok.numpy()
            info["crc_ok"][sel] = ok
            info["undetected_error"][sel] = ok & np.any(bits_hat != bits, axis=1)
            info["bits_per_symbol"][sel] = fmt.mcs.bits_per_symbol
            info["code_rate"][sel] = fmt.code_rate
            info["payload_bits"][sel] = fmt.payload_bits
            info["num_symbols"][sel] = int(sym.shape[1])
            rx = np.packbits(bits_hat.astype(np.uint8), axis=1)
            for j, i in enumerate(sel):
                rec = None
                if ok[j]:
                    try:
                        rec = _source_decode(rx[j].tobytes(), self.codec, height, width)
                    except (OSError, ValueError, SyntaxError):
                        info["decode_error"][i] = True
                if rec is None:
                    out[i] = self.fallback
                else:
                    out[i] = rec.astype(np.float32) / 255.0
                    info["success"][i] = True
        info["psnr"] = _psnr(out, x)
        return out, info


# ---------------------------------------------------------------------------------------------
# Calibration of the MCS thresholds
# ---------------------------------------------------------------------------------------------


def _awgn(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    no = tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0)
    no = tf.broadcast_to(tf.reshape(no, [-1, 1]), tf.shape(x))
    std = tf.sqrt(no / 2.0)
    n = tf.complex(tf.random.normal(tf.shape(x)) * std, tf.random.normal(tf.shape(x)) * std)
    return x + n, no


def block_error_rate(
    chain: TransportChain,
    snr_db: float,
    num_blocks: int = 200,
    link: LinkFn | None = None,
    seed: int = 0,
) -> float:
    """Transport-block error rate (CRC failures) of a chain at one SNR.

    Parameters
    ----------
    chain : TransportChain
        The chain to measure.
    snr_db : float
        Es/N0 (dB).
    num_blocks : int (default 200)
        Random transport blocks sent.
    link : `None` (default, AWGN) | callable
        ``link(x, snr_db) -> (y, no_eff)``.
    seed : int (default 0)
        Seed of the payload bits and of the AWGN noise.

    Output
    ------
    : float
        Fraction of blocks whose CRC failed or whose bits differ.
    """
    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (num_blocks, chain.fmt.payload_bits)).astype(np.float32)
    x = chain.encode(tf.constant(bits))
    y, no = (link or _awgn)(x, tf.fill([num_blocks], tf.constant(snr_db, tf.float32)))
    bits_hat, ok = chain.decode(y, tf.broadcast_to(tf.cast(no, tf.float32), tf.shape(y)))
    err = ~ok.numpy() | np.any(bits_hat.numpy() != bits, axis=1)
    return float(np.mean(err))


def calibrate_mcs_thresholds(
    k: int = 512,
    target_bler: float = 0.1,
    num_blocks: int = 400,
    resolution_db: float = 0.05,
    indices: Sequence[int] = MCS_INDICES,
    num_iter: int = 20,
    verbose: bool = False,
    link: LinkFn | None = None,
    span_db: float = 8.0,
) -> dict[int, float]:
    """Measures, per MCS, the Es/N0 at which the block error rate crosses ``target_bler``.

    Bisection between the constellation-free AWGN Shannon limit ``10 log10(2^(m R) - 1)`` (where
    the BLER must be ~1) and that limit plus ``span_db``. Calibrating over the link actually used
    (e.g. a fading channel) gives the thresholds an outer-loop link adaptation would converge to,
    and so a fair MCS choice for that channel.

    Parameters
    ----------
    k : int (default 512)
        Channel uses per block.
    target_bler : float (default 0.1)
        Block error rate defining the threshold.
    num_blocks : int (default 400)
        Blocks per SNR point.
    resolution_db : float (default 0.05)
        Bisection stops at this bracket width.
    indices : sequence of int
        MCS indices to calibrate.
    num_iter : int (default 20)
        LDPC iterations.
    verbose : bool (default `False`)
        Print each result.
    link : `None` (default, AWGN) | callable
        ``link(x, snr_db) -> (y, no_eff)``, e.g. :class:`psfl.phy.UplinkLink` over a fading
        channel.
    span_db : float (default 8)
        Width of the initial bracket above the Shannon limit (fading needs more, e.g. 20).

    Output
    ------
    : dict
        MCS index -> threshold Es/N0 (dB), rounded to ``resolution_db``; ``lo + span_db`` if the
        target is not reached within the bracket.
    """
    table = {m.index: m for m in mcs_table()}
    result = {}
    for i in indices:
        t0 = time.perf_counter()
        chain = TransportChain(transport_format(k, table[i]), num_iter=num_iter)
        se = table[i].spectral_efficiency
        lo = 10 * math.log10(2**se - 1)
        hi = lo + span_db
        while hi - lo > resolution_db:
            mid = 0.5 * (lo + hi)
            if block_error_rate(chain, mid, num_blocks, link=link) > target_bler:
                lo = mid
            else:
                hi = mid
        result[i] = round(round(hi / resolution_db) * resolution_db, 2)
        if verbose:
            print(f"MCS {i:2d}: {result[i]:6.2f} dB ({time.perf_counter() - t0:.1f} s)", flush=True)
    return result


def link_mcs_thresholds(link: LinkFn, k: int, num_blocks: int = 100,
                        resolution_db: float = 0.25, verbose: bool = False) -> dict[int, float]:
    """10 %-BLER thresholds of every MCS usable with ``k``, measured over ``link``.

    On a fading channel these are the thresholds an outer-loop link adaptation would converge to
    (for Rayleigh block fading about 10 dB above AWGN's); passed as
    ``DigitalBaseline(k, thresholds_db=...)`` they make its per-SNR MCS choice fair for that
    channel. Takes about 8 s per MCS on 2 CPU cores (k = 512, 100 blocks per point).

    Input
    -----
    link : callable
        ``link(x, snr_db) -> (y, no_eff)``, e.g. :class:`psfl.phy.UplinkLink` (wrapped in
        ``tf.function`` here).
    k : int
        Channel uses per transport block.

    Output
    ------
    : dict
        MCS index -> threshold Es/N0 (dB), as :func:`calibrate_mcs_thresholds`.
    """
    indices = [m.index for m in DigitalBaseline(k).mcs_table()]
    return calibrate_mcs_thresholds(k, num_blocks=num_blocks, resolution_db=resolution_db,
                                    indices=indices, verbose=verbose, link=tf.function(link),
                                    span_db=24.0)
