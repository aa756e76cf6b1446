r"""Reference curve of the digital baseline: its source coders at the channel's capacity.

An image sent over ``k`` channel uses at SNR :math:`\rho = 10^{\mathrm{snr\_db}/10}` may carry
at most

* AWGN: :math:`C = k \log_2(1 + \rho)` bits;
* any other channel (through ``link.simulate``): :math:`C = \sum_{j=1}^{k} \log_2(1 + g_j \rho)`,
  with :math:`g_j = \sum_r |h_{r,j}|^2` the true channel gain at channel use :math:`j`
  (maximum-ratio combining over the receive antennas, Gaussian input, equal power).

For fading this is the *instantaneous* mutual information of each image's own channel
realization, not the ergodic capacity :math:`E[\log_2(1 + g\rho)]` (ours): one image spans a few
block-fading slots, so no code averages over fades within it. Source-channel separation holds
per realization, so the mean distortion of any scheme, analog or digital, with or without
channel knowledge at the transmitter, is bounded by the mean over realizations of
:math:`D(C(h))`; this genie-aided bound uses the true channel whatever ``csi`` is.

The **reference PSNR** of an image is the best PSNR that any of the real source coders of
:mod:`psfl.phy.digital.source` reaches with a payload of :math:`\lfloor C/8 \rfloor` bytes and no
channel errors (each coder's own side header counted in the payload; fallback image if nothing
fits).
It is a bound for these source coders with an ideal channel code of infinite block length, not
for all source coders: the image's true rate-distortion function lies lower. It upper-bounds
the digital baseline's error-free PSNR at the same SNR, since every MCS the baseline selects has
a threshold above its Shannon limit and so carries fewer bits than :math:`C`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ..quality import psnr
from .source import CODECS, source_coder, source_encode, to_uint8

__all__ = ["capacity_bits", "capacity_reference"]


def capacity_bits(k: int, snr_db: float | np.ndarray, link: Any = None,
                  batch: int | None = None) -> np.ndarray:
    """Bits ``k`` channel uses carry at capacity (module docstring), per image.

    Input
    -----
    k : int
        Channel uses per image.
    snr_db : float | [batch]
        SNR (dB) as the link defines it.
    link : `None` (default, AWGN) | :class:`~psfl.phy.link.UplinkLink`
        Anything with ``simulate(x, snr_db) -> {"gain", "no", …}``; one channel realization is
        drawn per image.
    batch : `None` (default) | int
        Images (default: the length of ``snr_db``, or 1).

    Output
    ------
    : [batch], np.float64
        Capacity in bits of each image's ``k`` channel uses.
    """
    snr = np.atleast_1d(np.asarray(snr_db, np.float64))
    if snr.ndim != 1 or not np.all(np.isfinite(snr)):
        raise ValueError(f"snr_db={snr_db!r} must be a finite number or [batch] array of dB")
    n = batch or len(snr)
    snr = np.broadcast_to(snr, (n,))
    if link is None:
        return k * np.log2(1.0 + 10.0 ** (snr / 10.0))
    if not hasattr(link, "simulate"):
        raise ValueError("link must offer simulate(x, snr_db) returning the channel gain, such as "
                         "psfl.phy.UplinkLink; pass link=None for AWGN")
    rng = np.random.default_rng(0)
    qpsk = (rng.integers(0, 2, (n, k)) * 2 - 1 + 1j * (rng.integers(0, 2, (n, k)) * 2 - 1))
    out = link.simulate(tf.constant(qpsk / np.sqrt(2), tf.complex64),
                        tf.constant(snr, tf.float32))
    gain = np.asarray(out["gain"], np.float64)
    no = np.asarray(out["no"], np.float64).reshape(-1, 1)
    return np.sum(np.log2(1.0 + gain / no), axis=1)


def capacity_reference(images: Any, k: int, snr_db: float | np.ndarray, link: Any = None,
                       codecs: Sequence[str] = CODECS, fallback: float = 0.5,
                       downscale: bool = True) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The best of the source coders at the capacity of each image's channel uses, error-free.

    Input
    -----
    images : [batch, height, width, 3], float in [0, 1]
    k : int
        Channel uses per image.
    snr_db : float | [batch]
        SNR (dB).
    link : `None` (default, AWGN) | :class:`~psfl.phy.link.UplinkLink`
        Channel for the per-image capacity (:func:`capacity_bits`).
    codecs : sequence of str (default: all of :data:`~psfl.phy.digital.source.CODECS`)
        Source coders to take the best of.
    fallback : float (default 0.5)
        Grey level shown where nothing fits.
    downscale : bool (default `True`)
        Allow the coders' half-resolution fallback.

    Output
    ------
    images_hat : [batch, height, width, 3], np.float32
        Best reconstruction per image.
    info : dict of [batch] np.ndarray
        ``psnr`` (dB), ``capacity_bits``, ``payload_bytes`` (``floor(C/8)``), ``codec`` (name of
        the best coder, "" where nothing fitted).
    """
    x = np.asarray(images.numpy() if isinstance(images, tf.Tensor) else images, np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must have shape [batch, height, width, 3], got {x.shape}")
    coders = [source_coder(c) for c in codecs]
    if not coders:
        raise ValueError(f"codecs is empty; give one or more of {', '.join(CODECS)}")
    bits = capacity_bits(k, snr_db, link, batch=len(x))
    nbytes = np.floor(bits / 8).astype(np.int64)
    u8 = to_uint8(x)
    h, w = x.shape[1:3]
    out = np.full_like(x, fallback)
    best = np.full(len(x), "", dtype=object)
    best_mse = np.full(len(x), np.inf)
    for i, (img, p) in enumerate(zip(u8, nbytes, strict=True)):
        for coder in coders:
            if p < coder.min_payload_bytes():
                continue
            rec = coder.decode(source_encode(img, coder, int(p), downscale).payload, h, w)
            if rec is None:
                continue
            mse = float(np.mean((rec.astype(np.float64) - img) ** 2))
            if mse < best_mse[i]:
                best_mse[i], best[i] = mse, coder.name
                out[i] = rec.astype(np.float32) / 255.0
    return out, {"psnr": psnr(out, x), "capacity_bits": bits, "payload_bytes": nbytes,
                 "codec": best.astype(str)}
