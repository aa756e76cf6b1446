"""Coding one image into a fixed payload with any registered coder, and decoding it.

**Downscale fallback.** If allowed, the image is also coded at half resolution (box filter,
upscaled bicubic at the receiver) and the version with the lower MSE is kept (the transmitter
knows the original). The half-resolution search is skipped when the full-resolution result is
already at least as good as the *uncoded* half-resolution image upscaled, which a coded one
practically never beats (ours, to halve the encoding time). If neither fits, the "no image"
marker is sent and the receiver shows the fallback.
"""

from __future__ import annotations

import math

import numpy as np

from psfl.phy.digital.source._pillow import downscale as _downscale
from psfl.phy.digital.source._pillow import mse as _mse
from psfl.phy.digital.source._pillow import upscale as _upscale
from psfl.phy.digital.source.registry import Coded, SourceCoder

__all__ = ["source_decode", "source_encode", "to_uint8"]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] to uint8 (rounded), the coders' input."""
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


def source_encode(img: np.ndarray, coder: SourceCoder, payload_bytes: int,
                  downscale: bool = True) -> Coded:
    """Codes ``img`` into exactly ``payload_bytes``.

    Input
    -----
    img : [height, width, 3], np.uint8
    coder : SourceCoder
    payload_bytes : int
    downscale : bool (default `True`)
        Also try half resolution and keep the version with the lower MSE.

    Output
    ------
    : Coded
        The payload; the "no image" marker (all zero bytes, quality -1) if nothing fits.
    """
    height, width = img.shape[:2]
    best, best_mse = None, math.inf
    scales = (1, 2) if downscale and min(height, width) >= 2 else (1,)
    for scale in scales:
        small = _downscale(img) if scale == 2 else img
        if scale == 2 and best is not None and best_mse <= _mse(_upscale(small, height, width),
                                                                img):
            break  # not even the uncoded half-resolution image would be better
        coded = coder.fit(small, payload_bytes, scale)
        if coded is None:
            continue
        mse = _mse(coder.decode(coded.payload, height, width), img)
        if mse < best_mse:
            best, best_mse = coded, mse
    if best is None:
        return Coded(b"\x00" * payload_bytes, -1, 0, 0)
    return best


def source_decode(payload: bytes, coder: SourceCoder, height: int,
                  width: int) -> np.ndarray | None:
    """Decodes a received payload: uint8 [height, width, 3], or `None` for "no image"."""
    return coder.decode(payload, height, width)
