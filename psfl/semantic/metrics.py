"""Image quality metrics: PSNR, SSIM and MS-SSIM, per image and averaged.

* PSNR: ``10·log10(1 / MSE)`` for images in [0, 1], per image (MSE over all pixels and channels),
  the rule of :mod:`psfl.phy.quality`: the MSE is floored at ``MSE_FLOOR`` = 1e-10, so a perfect
  reconstruction scores :data:`PSNR_CAP_DB` = 100 dB and means stay finite; computed in float64
  like the digital baseline's, so both give the same number for the same images.
* SSIM: single-scale SSIM (Wang et al. 2004) of ``tf.image.ssim`` with an 11×11 Gaussian window
  (σ = 1.5); for images smaller than 11 px the window shrinks to the image side.
* MS-SSIM: ``tf.image.ssim_multiscale`` with its default 5 scales, which halve the image 4 times,
  so it needs at least ``11·2⁴ = 176`` px per side (:data:`MS_SSIM_MIN_SIZE`). Below that,
  :func:`ms_ssim` raises ``ValueError`` and :func:`image_metrics` leaves MS-SSIM out (32×32
  patches get PSNR and single-scale SSIM only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from psfl.phy.quality import MSE_FLOOR, PSNR_CAP_DB

__all__ = ["MS_SSIM_MIN_SIZE", "PSNR_CAP_DB", "image_metrics", "mean_metrics", "ms_ssim", "psnr",
           "ssim"]

MS_SSIM_MIN_SIZE = 176


def _pair(x: Any, y: Any) -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    y = tf.cast(tf.convert_to_tensor(y), tf.float32)
    if x.shape.rank != 4 or x.shape != y.shape:
        raise ValueError(f"metrics need two image batches of equal shape [B, H, W, C]; got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    return x, y


def psnr(x: Any, y: Any) -> tf.Tensor:
    """Peak signal-to-noise ratio per image.

    Input
    -----
    x, y : float32, [B, H, W, C], values in [0, 1] — reference and reconstruction.

    Output
    ------
    tf.float32, [B] — dB, at most :data:`PSNR_CAP_DB`.
    """
    x, y = _pair(x, y)
    d = tf.cast(x, tf.float64) - tf.cast(y, tf.float64)
    mse = tf.reduce_mean(tf.square(d), axis=[1, 2, 3])
    val = 10.0 * tf.math.log(1.0 / tf.maximum(mse, MSE_FLOOR)) / np.log(10.0)
    return tf.cast(val, tf.float32)


def ssim(x: Any, y: Any) -> tf.Tensor:
    """Single-scale SSIM per image (11×11 Gaussian window, σ = 1.5, smaller for tiny images).

    Input
    -----
    x, y : float32, [B, H, W, C], values in [0, 1]

    Output
    ------
    tf.float32, [B]
    """
    x, y = _pair(x, y)
    size = min(11, int(x.shape[1]), int(x.shape[2]))
    return tf.image.ssim(x, y, max_val=1.0, filter_size=size, filter_sigma=1.5)


def ms_ssim(x: Any, y: Any) -> tf.Tensor:
    """Multi-scale SSIM per image (5 scales); needs images of at least 176×176.

    Input
    -----
    x, y : float32, [B, H, W, C], values in [0, 1], H, W ≥ :data:`MS_SSIM_MIN_SIZE`.

    Output
    ------
    tf.float32, [B]
    """
    x, y = _pair(x, y)
    h, w = int(x.shape[1]), int(x.shape[2])
    if min(h, w) < MS_SSIM_MIN_SIZE:
        raise ValueError(f"MS-SSIM with 5 scales needs images of at least {MS_SSIM_MIN_SIZE}x"
                         f"{MS_SSIM_MIN_SIZE} px, got {h}x{w}; use ssim() for small images")
    return tf.image.ssim_multiscale(x, y, max_val=1.0)


def image_metrics(x: Any, y: Any) -> dict[str, np.ndarray]:
    """PSNR, SSIM and (for images ≥ 176 px) MS-SSIM per image.

    Output
    ------
    dict of np.ndarray float32 [B]: ``psnr`` (dB), ``ssim`` and, when the images are large
    enough, ``ms_ssim``.
    """
    out = {"psnr": psnr(x, y).numpy(), "ssim": ssim(x, y).numpy()}
    shape = tf.convert_to_tensor(x).shape
    if min(int(shape[1]), int(shape[2])) >= MS_SSIM_MIN_SIZE:
        out["ms_ssim"] = ms_ssim(x, y).numpy()
    return out


def mean_metrics(per_image: dict[str, np.ndarray]) -> dict[str, float]:
    """Average each per-image metric (as returned by :func:`image_metrics`)."""
    return {name: float(np.mean(v)) for name, v in per_image.items()}
