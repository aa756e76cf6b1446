"""The source-coder registry and the base class every coder derives from.

A coder is one module of this package that registers a :class:`SourceCoder` subclass under its
configuration name (``semantic.baseline_codec``)::

    @SOURCE_CODERS.register("webp", order=20)
    class WebpCoder(SourceCoder):
        name = "webp"
        pil_format = "WEBP"
        ...

Capabilities are class attributes: :attr:`SourceCoder.pil_format` (the Pillow format that
decodes the rebuilt file), :attr:`SourceCoder.rebuilds_header` (the receiver rebuilds headers
the transmitter strips) and :attr:`SourceCoder.relative_cost` (encoding time per image relative
to JPEG). The base class holds the framing into the payload and the rate search
(:meth:`SourceCoder.fit`); a coder gives :meth:`~SourceCoder.full` and, when it strips headers,
:meth:`~SourceCoder.strip` and :meth:`~SourceCoder.file`.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PIL import Image

from psfl.phy.digital.source._pillow import bisect_quality, upscale
from psfl.registry import Registry

__all__ = ["SOURCE_CODERS", "Coded", "SourceCoder", "source_coder"]


@dataclass(frozen=True)
class Coded:
    """One image coded into a payload.

    Parameters
    ----------
    payload : bytes
        Exactly ``payload_bytes`` long.
    quality : int
        Quality parameter used; -1 if nothing fitted.
    scale : int
        1 (full resolution), 2 (half) or 0 (nothing fitted).
    source_bytes : int
        Side header plus stream actually used (the rest is padding).
    """

    payload: bytes
    quality: int
    scale: int
    source_bytes: int


class SourceCoder(ABC):
    """A Pillow image format with the bytes the receiver can rebuild stripped.

    Subclasses give :meth:`full` (the encoder's file at a quality) and, if they strip headers,
    :meth:`strip` (what goes over the air) and :meth:`file` (rebuild a decodable file); framing
    into the payload (side header, padding) is length-based here and may be overridden (JPEG
    signals its quality instead).
    """

    #: Configuration name (the name the class is registered under).
    name: ClassVar[str]
    #: Pillow format of the file the receiver decodes (``Image.open(...).format``).
    pil_format: ClassVar[str]
    #: Range of the quality parameter searched by :meth:`fit`.
    qualities: ClassVar[tuple[int, int]]
    #: The receiver rebuilds headers that the transmitter strips (:meth:`strip`, :meth:`file`).
    rebuilds_header: ClassVar[bool] = False
    #: Encoding time per image, bisection included, relative to JPEG's (32x32 patches).
    relative_cost: ClassVar[float] = 1.0
    #: Codes a photo as horizontal slices decodable one without another (JPEG's restart
    #: intervals), which the per-slice loss rule needs (:meth:`sliced`,
    #: :mod:`psfl.phy.digital.slices`).
    slices: ClassVar[bool] = False

    def quality_range(self, height: int, width: int) -> tuple[int, int]:
        """Range of the bisection for an image of this size."""
        return self.qualities

    @abstractmethod
    def full(self, img: np.ndarray, quality: int) -> bytes:
        """The encoder's complete output for ``img`` (uint8 [H, W, 3]) at ``quality``."""

    def strip(self, data: bytes) -> bytes:
        """What goes over the air of a complete file (by default all of it)."""
        return data

    def file(self, stream: bytes, height: int, width: int, quality: int) -> bytes:
        """Rebuilds the complete file from the stream sent (and the quality, if signalled); by
        default the stream is the file."""
        return stream

    def sliced(self) -> SourceCoder:
        """This coder with one slice per row of coding units (only where :attr:`slices`)."""
        names = ", ".join(SOURCE_CODERS.names(slices=True))
        raise ValueError(f"the {self.name} source coder has no slices (restart intervals), "
                         f"which the per-slice loss rule needs; use one of: {names}")

    # -- framing (length-based side header) ---------------------------------------------

    @staticmethod
    def side_bytes(payload_bytes: int) -> int:
        """Width of the side header, ``ceil((bitlength(P) + 1) / 8)``."""
        return math.ceil((int(payload_bytes).bit_length() + 1) / 8)

    def min_payload_bytes(self) -> int:
        """Smallest payload that can carry a side header and one byte of stream."""
        return 2

    def budget(self, payload_bytes: int) -> int:
        """Stream bytes available in a payload."""
        return payload_bytes - self.side_bytes(payload_bytes)

    def frame(self, stream: bytes, quality: int, scale: int, payload_bytes: int) -> bytes:
        """Side header + stream + zero padding, ``payload_bytes`` long."""
        s = self.side_bytes(payload_bytes)
        body = (2 * len(stream) + (scale == 2)).to_bytes(s, "big") + stream
        return body + b"\x00" * (payload_bytes - len(body))

    def unframe(self, payload: bytes) -> tuple[bytes, int, int] | None:
        """``(stream, quality, scale)`` of a received payload; `None` for "no image"."""
        s = self.side_bytes(len(payload))
        side = int.from_bytes(payload[:s], "big")
        n, scale = side >> 1, 2 if side & 1 else 1
        if n == 0 or n > len(payload) - s:
            return None
        return payload[s : s + n], -1, scale

    # -- coding ---------------------------------------------------------------------------

    def fit(self, img: np.ndarray, payload_bytes: int, scale: int) -> Coded | None:
        """Highest-quality payload of ``img`` (already at ``scale``), or `None` if none fits."""
        h, w = img.shape[:2]
        hasher = hashlib.blake2b(repr(img.shape).encode(), digest_size=16)
        hasher.update(np.ascontiguousarray(img).data)
        digest = hasher.digest()

        def full(q: int) -> bytes:
            return _ENCODED.get(self, img, digest, q)

        q = bisect_quality(lambda q: len(self.strip(full(q))), *self.quality_range(h, w),
                           self.budget(payload_bytes))
        if q is None:
            return None
        stream = self.strip(full(q))
        if self.file(stream, h, w, q) != full(q):
            raise RuntimeError(f"{self.name}: the file the receiver rebuilds differs from the "
                               "encoder's output; the stripped header is not deterministic here")
        overhead = payload_bytes - self.budget(payload_bytes)
        return Coded(self.frame(stream, q, scale, payload_bytes), q, scale,
                     overhead + len(stream))

    def decode(self, payload: bytes, height: int, width: int,
               repair: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray | None:
        """Decoded uint8 [height, width, 3] image of a payload; `None` for "no image".
        ``repair`` maps the decoded image at its coded scale, before any upscaling (the
        concealment of lost slices, :func:`psfl.phy.digital.slices.conceal`)."""
        parts = self.unframe(payload)
        if parts is None:
            return None
        stream, quality, scale = parts
        h, w = (height, width) if scale == 1 else ((height + 1) // 2, (width + 1) // 2)
        with Image.open(io.BytesIO(self.file(stream, h, w, quality))) as im:
            img = np.asarray(im.convert("RGB"))
        if repair is not None:
            img = repair(img)
        if scale == 2:
            img = upscale(img, height, width)
        if img.shape != (height, width, 3):
            raise ValueError(f"decoded image has shape {img.shape}, expected {(height, width, 3)}")
        return img


SOURCE_CODERS = Registry("source coder", "psfl.phy.digital.source",
                         setting="semantic.baseline_codec", base=SourceCoder)
"""Source coders of the digital baseline by configuration name (one module each)."""


class _EncoderMemo:
    """The encoder's files of recently coded images, least recently used dropped beyond
    ``limit_bytes`` (ours: a photo swept over several SNRs, and the baseline beside the capacity
    reference, search the same qualities of the same image again; a 4-MP JPEG takes 0.1–0.3 s
    per quality). Keyed by the coder's class and settings, the image's digest and the quality;
    thread-safe (:func:`~psfl.phy.digital._shared.encode_all` codes images in threads)."""

    def __init__(self, limit_bytes: int = 256 << 20) -> None:
        self.limit_bytes, self.size = limit_bytes, 0
        self._files: OrderedDict[tuple[str, str, bytes, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, coder: SourceCoder, img: np.ndarray, digest: bytes, quality: int) -> bytes:
        key = (type(coder).__name__, repr(sorted(vars(coder).items())), digest, quality)
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return self._files[key]
        data = coder.full(img, quality)
        with self._lock:
            if key not in self._files:
                self._files[key] = data
                self.size += len(data)
            while self.size > self.limit_bytes and self._files:
                self.size -= len(self._files.popitem(last=False)[1])
        return data


_ENCODED = _EncoderMemo()


def source_coder(name: str) -> SourceCoder:
    """The coder called ``name``; a `ValueError` naming the valid ones otherwise."""
    return SOURCE_CODERS.build(name)
