"""AVIF (libavif + libaom through Pillow, AV1 intra, speed 6, 4:2:0): side header + the payload
of the AV1 frame OBU; the receiver rebuilds the ftyp/meta/mdat boxes (~275 bytes), the
temporal-delimiter and sequence-header OBUs and the frame OBU's header. Quality 0..99 (Pillow's
scale; 100 switches libaom to lossless, with another sequence header)."""

from __future__ import annotations

import functools

import numpy as np

from psfl.phy.digital.source._pillow import pil_encode
from psfl.phy.digital.source.registry import SOURCE_CODERS, SourceCoder

__all__ = ["AvifCoder"]

_OBU_FRAME = 6


@SOURCE_CODERS.register("avif", order=40)
class AvifCoder(SourceCoder):
    """AVIF (libavif + libaom, AV1 intra, 4:2:0, speed 6): only the payload of the AV1 frame
    OBU is sent; the ISOBMFF boxes, the temporal-delimiter and sequence-header OBUs and the
    frame OBU's header are rebuilt."""

    name = "avif"
    pil_format = "AVIF"
    qualities = (0, 99)  # 100 switches libaom to lossless, with another sequence header
    rebuilds_header = True
    relative_cost = 15.0

    def full(self, img: np.ndarray, quality: int) -> bytes:
        return pil_encode(img, "AVIF", quality=quality, speed=6, subsampling="4:2:0")

    def strip(self, data: bytes) -> bytes:
        prefix, obu = _avif_split(data)
        n, used = _leb128(obu, 0)
        return obu[used : used + n]

    def file(self, stream: bytes, height: int, width: int, quality: int) -> bytes:
        prefix, iloc_len_at = _avif_template(height, width)
        mdat = prefix[-1:] + _leb128_bytes(len(stream)) + stream  # frame OBU header byte
        body = prefix[:-1]
        mdat_start = _box(body, b"mdat")
        head_len = len(body) - (mdat_start + 8)  # TD and sequence header OBUs in mdat
        extent = head_len + len(mdat)
        out = bytearray(body + mdat)
        out[iloc_len_at : iloc_len_at + 4] = extent.to_bytes(4, "big")
        out[mdat_start : mdat_start + 4] = (8 + extent).to_bytes(4, "big")
        return bytes(out)


def _box(data: bytes, kind: bytes, start: int = 0) -> int:
    """Offset of the first box of type ``kind`` among the boxes from ``start`` on."""
    pos = start
    while pos + 8 <= len(data):
        if data[pos + 4 : pos + 8] == kind:
            return pos
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size < 8:
            break
        pos += size
    raise RuntimeError(f"libavif wrote no {kind.decode()} box where expected")


def _avif_split(data: bytes) -> tuple[bytes, bytes]:
    """(file up to and including the frame OBU header byte, the rest: size field + payload)."""
    pos = _box(data, b"mdat") + 8
    while pos < len(data):
        header = data[pos]
        if (header >> 3) & 0xF == _OBU_FRAME and header & 0x2 and not header & 0x4:
            return data[: pos + 1], data[pos + 1 :]
        if not header & 0x2 or header & 0x4:
            break
        n, used = _leb128(data, pos + 1)
        pos += 1 + used + n
    raise RuntimeError("libavif wrote no plain frame OBU; expected TD, sequence header, frame")


@functools.lru_cache(maxsize=64)
def _avif_template(height: int, width: int) -> tuple[bytes, int]:
    """File prefix of an AVIF of this size (boxes, TD and sequence header OBUs, frame OBU header
    byte) and where the iloc extent length sits in it."""
    data = AvifCoder().full(np.zeros((height, width, 3), np.uint8), 50)
    prefix, _ = _avif_split(data)
    i = _box(prefix, b"iloc", _box(prefix, b"meta") + 12)
    box = prefix[i : i + int.from_bytes(prefix[i : i + 4], "big")]
    # FullBox v0: offset_size=4, length_size=4, base_offset_size=0, one item, one extent
    if box[8] != 0 or box[12:14] != b"\x44\x00" or box[14:16] != b"\x00\x01" or len(box) != 30:
        raise RuntimeError("libavif wrote an iloc box of an unexpected layout")
    return prefix, i + 26


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    """(value, bytes used) of the unsigned LEB128 number at ``pos``."""
    value = 0
    for i in range(8):
        b = data[pos + i]
        value |= (b & 0x7F) << (7 * i)
        if not b & 0x80:
            return value, i + 1
    raise RuntimeError("LEB128 number longer than 8 bytes")


def _leb128_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)
