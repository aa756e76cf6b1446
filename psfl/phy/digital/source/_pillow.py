"""Pixel and Pillow helpers shared by the source coders: encode with Pillow, bisection over a
quality parameter, the half-resolution resampling of the downscale fallback, MSE."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

__all__ = ["bisect_quality", "downscale", "mse", "pil_encode", "upscale"]


def bisect_quality(size_of: Callable[[int], int], lo: int, hi: int, budget: int) -> int | None:
    """Highest quality in [lo, hi] whose size fits ``budget`` (size is monotone up to rare
    one-byte wiggles, so bisection may miss a slightly higher quality but never returns one
    that does not fit)."""
    if budget < 1 or size_of(lo) > budget:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size_of(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def pil_encode(img: np.ndarray, fmt: str, **kw: object) -> bytes:
    """The file Pillow writes for ``img`` (uint8 [H, W, 3]) in format ``fmt``."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt, **kw)
    return buf.getvalue()


def downscale(img: np.ndarray) -> np.ndarray:
    """Half resolution (box filter, odd sides rounded up)."""
    h, w = img.shape[:2]
    size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BOX))


def upscale(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bicubic upscaling to ``height`` × ``width`` (the receiver's side of :func:`downscale`)."""
    return np.asarray(Image.fromarray(img).resize((width, height), Image.Resampling.BICUBIC))


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b) ** 2))
