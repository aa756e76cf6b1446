"""Bandwidth ratio and power normalization of channel symbols.

Convention (as in DeepJSCC): an image of ``n = H·W·3`` real values is sent as ``k`` complex
channel symbols; the bandwidth ratio is ``k/n``. Every image's symbol vector ``z`` is scaled so
that its mean power is exactly one, ``mean_i |z_i|² = 1``; the transmit power and the SNR are
then applied by the link (:mod:`psfl.phy`). The codecs normalize their own output
(:meth:`psfl.semantic.codec.SemanticCodec.symbol_pairs`); :func:`normalize_power` does the same
for any complex symbols.
"""

from __future__ import annotations

try:
    import tensorflow as tf
except ImportError:  # a JAX/PyTorch-only machine: the networks need Keras alone (see layers.py)
    tf = None

__all__ = ["k_from_ratio", "normalize_power", "ratio_from_k"]


def k_from_ratio(image_size: int | tuple[int, int], k_over_n: float) -> int:
    """Number of complex channel symbols ``k = round(k_over_n · H · W · 3)``.

    ``n = H·W·3`` counts real source values and ``k`` complex channel uses, so ``k/n = 1/6`` on
    32×32 RGB images gives ``k = 512``.
    """
    h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
    if not 0.0 < k_over_n <= 1.0:
        raise ValueError(f"k_over_n={k_over_n} is out of range; choose a bandwidth ratio in (0, 1], "
                         "e.g. 1/6")
    return max(1, int(round(k_over_n * h * w * 3)))


def ratio_from_k(image_size: int | tuple[int, int], k: int) -> float:
    """The bandwidth ratio ``k/n`` of ``k`` complex symbols per ``H × W`` RGB image."""
    h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
    return k / (h * w * 3)


def normalize_power(z: tf.Tensor, eps: float = 1e-12) -> tf.Tensor:
    """Scale each row of ``z`` to unit mean power.

    Parameters
    ----------
    z : tf.complex64, [B, k]
        Channel symbols of B images.
    eps : float
        Guards the division for an all-zero row.

    Output
    ------
    tf.complex64, [B, k] — ``z / sqrt(mean_i |z_i|²)`` per row, so ``mean_i |z_i|² = 1``.
    """
    power = tf.reduce_mean(tf.math.real(z) ** 2 + tf.math.imag(z) ** 2, axis=-1, keepdims=True)
    scale = tf.math.rsqrt(power + eps)
    # tf.complex rather than tf.cast: the gradient of a real→complex cast drops the imaginary part.
    return z * tf.complex(scale, tf.zeros_like(scale))
