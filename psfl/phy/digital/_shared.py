"""What both digital baselines (patches: :mod:`.baseline`, whole photos: :mod:`.photo`) do the
same way: SNR checks, the fallback colour, source coding in parallel and decoding with the
fallback; the check of whole photos, which the photo baseline's helpers share, and the symbols
its transmitter sends under the PHY abstraction."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .source import Coded, SourceCoder, source_encode

__all__ = ["MIN_PHOTO_SIDE", "check_photos", "check_snr", "decode_or_fallback", "encode_all",
           "fallback_colour", "per_item", "stand_in_symbols"]

MIN_PHOTO_SIDE = 8  # one 8x8 JPEG block; smaller "photos" are patches (DigitalBaseline)


def check_snr(snr_db: Any) -> np.ndarray:
    """``snr_db`` (dB) as a float64 scalar or [batch]; `ValueError` naming the fix otherwise."""
    try:
        snr = np.asarray(snr_db, np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"snr_db={snr_db!r} must be a number or an array of dB") from exc
    if snr.ndim > 1:
        raise ValueError(f"snr_db must be a scalar or [batch], got shape {snr.shape}")
    if not np.all(np.isfinite(snr)):
        raise ValueError(f"snr_db={snr_db!r} must be finite; give the SNR in dB (e.g. 10.0)")
    return snr


def per_item(snr_db: Any, batch: int, name: str, items: str = "images") -> np.ndarray:
    """A checked SNR (dB) as [batch]: one value for all ``items`` or one each."""
    snr = check_snr(snr_db)
    if snr.ndim == 1 and snr.shape[0] != batch:
        raise ValueError(f"{name} has {snr.shape[0]} entries for {batch} {items}; give one or "
                         f"{batch}")
    return np.broadcast_to(snr, (batch,))


def fallback_colour(fallback: float | Sequence[float]) -> np.ndarray:
    """The fallback as an RGB triple in [0, 1], float32 [3]; raises otherwise."""
    fb = np.asarray(fallback, np.float32).reshape(-1)
    if fb.size not in (1, 3) or not np.all(np.isfinite(fb)) or fb.min() < 0 or fb.max() > 1:
        raise ValueError(
            f"fallback={fallback!r} must be a grey level or an RGB triple in [0, 1]"
        )
    return np.broadcast_to(fb, (3,)).copy()


def encode_all(u8: np.ndarray, coder: SourceCoder, payload_bytes: int,
               downscale: bool) -> list[Coded]:
    """Codes uint8 images into ``payload_bytes`` each, one thread per core (Pillow's encoders
    release the GIL)."""
    n = len(u8)
    with ThreadPoolExecutor(max(1, min(n, os.cpu_count() or 1))) as pool:
        return list(pool.map(source_encode, u8, [coder] * n, [payload_bytes] * n,
                             [downscale] * n))


def decode_or_fallback(coder: SourceCoder, payload: bytes | None, height: int, width: int,
                       fallback: np.ndarray, info: dict[str, Any], i: int,
                       repair: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Image ``i`` from its received payload (`None`: lost on the channel), or ``fallback``;
    marks ``info["success"][i]`` and, for a stream that does not decode,
    ``info["decode_error"][i]``. ``repair``: as for :meth:`SourceCoder.decode`."""
    rec = None
    if payload is not None:
        try:
            rec = coder.decode(payload, height, width, repair)
        except (OSError, ValueError, SyntaxError):
            info["decode_error"][i] = True
    if rec is None:
        return fallback
    info["success"][i] = True
    return rec.astype(np.float32) / 255.0


def check_photos(photos: Any) -> np.ndarray:
    """Photos as float32 [batch, H, W, 3] in [0, 1]; `ValueError` naming the fix otherwise."""
    x = photos.numpy() if hasattr(photos, "numpy") else np.asarray(photos)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[0] == 0:
        raise ValueError(f"photos must have shape [height, width, 3] or [batch, height, width, "
                         f"3], got {x.shape}; convert grey photos to RGB")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"photos must be float in [0, 1], got dtype {x.dtype}; use "
                         "x.astype('float32') / 255")
    if min(x.shape[1:3]) < MIN_PHOTO_SIDE:
        raise ValueError(
            f"a {x.shape[1]}x{x.shape[2]} photo is too small to code as a photo (at least "
            f"{MIN_PHOTO_SIDE}x{MIN_PHOTO_SIDE} pixels); send small patches with "
            "psfl.phy.digital.DigitalBaseline")
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError("photos must be finite and in [0, 1]; rescale (x / 255 for 8-bit "
                         "data) and clean NaN/inf")
    return x.astype(np.float32)


def stand_in_symbols(rng: np.random.Generator, n: int, k: int, positions: np.ndarray,
                     mcs: Any) -> np.ndarray:
    r"""``n`` rows of ``k`` symbols: uniformly random points of the MCS's square QAM
    (:math:`L^2 = 2^m` points :math:`(a + jb)/\sqrt{2(L^2 - 1)/3}`, :math:`a, b \in \{\pm 1,
    \pm 3, …, \pm(L - 1)\}`, unit average power) at ``positions``, zeros elsewhere.

    What the PHY abstraction's transmitter sends (ours): a code block's fate is drawn from the
    per-RE noise variance the link reports, which the channel, the pilots and the symbols'
    power set, not their values, so LDPC-encoding the payload (80 % of a 4-MP photo's
    baseline time) would change nothing."""
    levels = 2 ** (int(mcs.bits_per_symbol) // 2)
    a, b = (2 * rng.integers(0, levels, (n, positions.size)) - (levels - 1) for _ in range(2))
    sym = np.zeros((n, k), np.complex64)
    sym[:, positions] = (a + 1j * b) / np.sqrt(2 * (levels**2 - 1) / 3)
    return sym
