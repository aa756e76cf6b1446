"""WebP (libwebp through Pillow), lossy VP8 intra: side header (length, scale) + the VP8
bitstream; the receiver rebuilds the 20-byte RIFF/chunk header."""

from __future__ import annotations

import numpy as np

from psfl.phy.digital.source._pillow import pil_encode
from psfl.phy.digital.source.registry import SOURCE_CODERS, SourceCoder

__all__ = ["WebpCoder"]


@SOURCE_CODERS.register("webp", order=20)
class WebpCoder(SourceCoder):
    """Lossy WebP (libwebp, VP8 intra), sent without its RIFF/chunk header."""

    name = "webp"
    pil_format = "WEBP"
    qualities = (0, 100)
    rebuilds_header = True
    relative_cost = 2.2

    def full(self, img: np.ndarray, quality: int) -> bytes:
        return pil_encode(img, "WEBP", quality=quality, lossless=False)

    def strip(self, data: bytes) -> bytes:
        if data[12:16] != b"VP8 ":
            raise RuntimeError("PIL wrote an extended WebP file; expected a simple lossy 'VP8 ' "
                               "file")
        return data[20 : 20 + int.from_bytes(data[16:20], "little")]

    def file(self, stream: bytes, height: int, width: int, quality: int) -> bytes:
        pad = b"\x00" if len(stream) % 2 else b""
        riff = 4 + 8 + len(stream) + len(pad)
        return (b"RIFF" + riff.to_bytes(4, "little") + b"WEBPVP8 "
                + len(stream).to_bytes(4, "little") + stream + pad)
