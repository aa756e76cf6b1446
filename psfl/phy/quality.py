r"""PSNR: the one rule by which psfl scores a received image.

For images on the [0, 1] scale, per image,

.. math:: \mathrm{PSNR} = 10 \log_{10} \frac{1}{\max(\mathrm{MSE}, \mathrm{MSE}_\min)}, \qquad
   \mathrm{MSE}_\min = 10^{-\mathrm{PSNR}_\mathrm{cap}/10},

with the MSE over all pixels and channels, computed in float64 and returned as float32. The
floor keeps lossless results finite: they score :data:`PSNR_CAP_DB` = 100 dB, and no image
scores more. The digital baseline (:mod:`psfl.phy.digital`) uses :func:`psnr` here; the
semantic codecs' TF metric (:func:`psfl.semantic.metrics.psnr`) computes the same rule with the
same constants, so both report the same number for the same images.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MSE_FLOOR", "PSNR_CAP_DB", "psnr"]

PSNR_CAP_DB = 100.0
"""Highest PSNR reported (dB): that of an MSE at :data:`MSE_FLOOR`, e.g. a lossless image."""

MSE_FLOOR = 10.0 ** (-PSNR_CAP_DB / 10.0)
"""Smallest MSE the PSNR is computed from, ``1e-10``."""


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PSNR (dB) per image on the [0, 1] scale (module docstring).

    Input
    -----
    a, b : [batch, height, width, channels], float in [0, 1]
        Reference and reconstruction (in either order).

    Output
    ------
    : [batch], np.float32
        dB, at most :data:`PSNR_CAP_DB`.
    """
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(1, 2, 3))
    return (10.0 * np.log10(1.0 / np.maximum(mse, MSE_FLOOR))).astype(np.float32)
