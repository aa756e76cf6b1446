"""JPEG (libjpeg through Pillow), sent abbreviated: 1 side byte (quality, scale) + the
entropy-coded scan, padded with 0xFF fill bytes (T.81 B.1.1.2), as RTP/JPEG (RFC 2435); the
receiver rebuilds the header from the quality and the image size (standard tables).

**Slices** (:meth:`JpegCoder.sliced`): with ``restart_rows = r`` libjpeg writes a restart
marker RSTm (0xFFD0–0xFFD7, T.81 Table B.1) after every ``r`` rows of MCUs (Pillow's
``restart_marker_rows``) and a DRI segment in the header (rebuilt by the receiver, like the
rest of it); at each marker the decoder resets its DC predictions and restarts the bit stream on
a byte boundary, so each restart interval decodes from its own bytes and the header alone. The
markers and the byte alignment cost a few bytes per interval, inside the quality search's budget.
"""

from __future__ import annotations

import functools

import numpy as np

from psfl.phy.digital.source._pillow import pil_encode
from psfl.phy.digital.source.registry import SOURCE_CODERS, SourceCoder

__all__ = ["JpegCoder"]


@SOURCE_CODERS.register("jpeg", order=10)
class JpegCoder(SourceCoder):
    """Baseline JPEG (libjpeg, 4:2:0, standard Huffman tables), sent abbreviated.

    Parameters
    ----------
    restart_rows : int (default 0)
        A restart marker after every ``restart_rows`` rows of MCUs (0: none).
    """

    name = "jpeg"
    pil_format = "JPEG"
    qualities = (1, 100)
    rebuilds_header = True
    relative_cost = 1.0
    slices = True

    def __init__(self, restart_rows: int = 0) -> None:
        if isinstance(restart_rows, bool) or not isinstance(restart_rows, int) or restart_rows < 0:
            raise ValueError(f"restart_rows={restart_rows!r} must be a whole number of MCU rows "
                             "(0: no restart markers)")
        self.restart_rows = restart_rows

    def sliced(self) -> JpegCoder:
        """JPEG with a restart marker after every row of MCUs (one slice per MCU row)."""
        return JpegCoder(restart_rows=1)

    def full(self, img: np.ndarray, quality: int) -> bytes:
        restart = {"restart_marker_rows": self.restart_rows} if self.restart_rows else {}
        return pil_encode(img, "JPEG", quality=quality, subsampling=2, **restart)

    @staticmethod
    def _split(data: bytes) -> tuple[bytes, bytes]:
        """(header up to and including SOS, scan without EOI)."""
        i = data.index(b"\xff\xda")
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        return data[:end], data[end:-2]

    def strip(self, data: bytes) -> bytes:
        return self._split(data)[1]

    def file(self, stream: bytes, height: int, width: int, quality: int) -> bytes:
        return _jpeg_header(quality, height, width, self.restart_rows) + stream + b"\xff\xd9"

    def budget(self, payload_bytes: int) -> int:
        return payload_bytes - 1

    def frame(self, stream: bytes, quality: int, scale: int, payload_bytes: int) -> bytes:
        body = bytes([quality | (0x80 if scale == 2 else 0)]) + stream
        # 0xFF fill bytes before the EOI marker are legal JPEG (T.81 B.1.1.2)
        return body + b"\xff" * (payload_bytes - len(body))

    def unframe(self, payload: bytes) -> tuple[bytes, int, int] | None:
        q, scale = payload[0] & 0x7F, 2 if payload[0] & 0x80 else 1
        if not 1 <= q <= 100:
            return None
        return payload[1:].rstrip(b"\xff"), q, scale


@functools.lru_cache(maxsize=512)
def _jpeg_header(quality: int, height: int, width: int, restart_rows: int = 0) -> bytes:
    """JPEG header: a function of quality, size and restart interval only (standard tables)."""
    coder = JpegCoder(restart_rows)
    return coder._split(coder.full(np.zeros((height, width, 3), np.uint8), quality))[0]
