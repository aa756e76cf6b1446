"""Common base of the semantic codecs: input checks, side information, saving.

A codec maps a batch of images to ``k`` complex channel symbols per image with unit mean power
(:meth:`SemanticCodec.encode`) and back from the received symbols and their noise variance
(:meth:`SemanticCodec.decode`). The channel between them is :mod:`psfl.phy`'s link (or any
callable ``link(x, snr_db) -> (y, no_eff)``); see :mod:`psfl.semantic.train`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

try:
    import tensorflow as tf
except ImportError:  # a JAX/PyTorch-only machine: the networks need Keras alone (see layers.py)
    tf = None

from psfl.semantic.layers import effective_snr_db, snr_db_per_image

__all__ = ["SemanticCodec", "check_images"]


def check_images(images: Any, image_size: tuple[int, int], model: str) -> tf.Tensor:
    """Validate a batch of images for a codec built for ``image_size``; return a float32 tensor.

    Raises :class:`ValueError` naming the problem and the fix for a wrong rank, channel count,
    size or dtype. Shapes are checked statically, so this also works inside ``tf.function``.
    """
    dtype = getattr(images, "dtype", None)
    if dtype is None:
        images = np.asarray(images)
        dtype = images.dtype
    dtype = tf.as_dtype(dtype)
    if dtype not in (tf.float32, tf.float16, tf.float64, tf.bfloat16):
        raise ValueError(
            f"images have dtype {dtype.name}; the codec expects float32 in [0, 1]. Convert with "
            "images.astype('float32') / 255 (for uint8 images)")
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"images have shape {shape}; the codec expects a batch [B, H, W, 3] "
                         "(add a batch axis with images[None] for one image)")
    h, w, c = shape[1:]
    if c != 3:
        raise ValueError(f"images have {c} channels; the codec expects RGB (3 channels). Convert "
                         "grayscale with np.repeat(images, 3, axis=-1) and drop alpha with "
                         "images[..., :3]")
    if (h, w) != tuple(image_size):
        raise ValueError(
            f"images are {h}x{w} but codec {model!r} was built for {image_size[0]}x{image_size[1]}; "
            f"crop or resize them to {image_size[0]}x{image_size[1]} (e.g. data.patch_size="
            f"{image_size[0]}) or build the codec with image_size={h}")
    return tf.cast(images, tf.float32)


class SemanticCodec(keras.Model):
    """Base class: ``encode`` → ``k`` unit-power complex symbols, ``decode`` → image.

    Parameters
    ----------
    image_size : int or (int, int)
        Height and width of the images the codec is built for.
    k : int
        Complex channel symbols per image; the bandwidth ratio is ``k / (H·W·3)``.
    arch : str
        Preset name (``"gsc-s"``, ``"csc"``, …) recorded in checkpoints.
    """

    #: Subclasses name their architecture family (``"gsc"`` or ``"csc"``).
    family: str = ""
    #: Whether the weights are the same at every image size (a fully convolutional network), so
    #: that :func:`psfl.semantic.windowed.at_size` can also run the networks over the whole
    #: image.
    size_free: bool = False

    def __init__(self, image_size: int | tuple[int, int], k: int, arch: str = "", **kwargs):
        super().__init__(**kwargs)
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.image_size: tuple[int, int] = (int(size[0]), int(size[1]))
        self.k = int(k)
        self.arch = arch or self.family

    # -- properties ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Real source values per image, ``H·W·3``."""
        return self.image_size[0] * self.image_size[1] * 3

    @property
    def k_over_n(self) -> float:
        return self.k / self.n

    # -- to implement -------------------------------------------------------------------------
    # Both take and return backend tensors and use keras.ops only (any Keras backend).
    def _encode(self, x: Any, snr_db: Any, training: bool) -> Any:
        """[B,H,W,3] in [-1,1], [B] dB → [B, 2k] float32 (unnormalized, re/im interleaved)."""
        raise NotImplementedError

    def _decode(self, feats: Any, snr_db: Any, training: bool) -> Any:
        """[B, k, 3] (re, im, eff. SNR/20), [B] dB → [B,H,W,3] logits. A family implements
        :meth:`_decode_features` (then it can also be distilled feature-wise) or this."""
        return self._decode_features(feats, snr_db, training)[0]

    def _decode_features(self, feats: Any, snr_db: Any, training: bool) -> tuple[Any, Any]:
        """As :meth:`_decode`, also returning the decoder's feature map on its channel grid,
        ``[B, gh, gw, C]`` (what feature distillation compares between two codecs)."""
        raise NotImplementedError(f"{type(self).__name__} exposes no decoder features")

    def cost(self) -> dict[str, int]:
        """``{"flops": …, "activation_memory_bytes": …}`` per image: the formula of the codec's
        family (:func:`psfl.semantic.costs.codec_cost`); a new family overrides this."""
        from psfl.semantic.costs import codec_cost

        return codec_cost(self)

    # -- public API -----------------------------------------------------------------------------
    def encode(self, images: Any, snr_db: Any, training: bool = False) -> tf.Tensor:
        """Images → unit-power channel symbols.

        Input
        -----
        images : float32, [B, H, W, 3], values in [0, 1]
        snr_db : float32, scalar or [B] — SNR (dB) the symbols will see; side information.

        Output
        ------
        tf.complex64, [B, k] — ``mean_i |z_i|² = 1`` for every image.
        """
        x = check_images(images, self.image_size, self.arch)
        z = self.symbol_pairs(x, snr_db_per_image(snr_db, tf.shape(x)[0]), training)
        # tf.complex rather than tf.cast: the gradient of a real→complex cast drops the imaginary
        # part.
        return tf.complex(z[..., 0], z[..., 1])

    def decode(self, y: tf.Tensor, no_eff: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Received symbols → images.

        Input
        -----
        y : tf.complex64, [B, k] — equalized received symbols.
        no_eff : tf.float32, [B, k] (or broadcastable, e.g. [B, 1] or scalar) — post-equalization
            noise variance per symbol; the decoder's side information.

        Output
        ------
        tf.float32, [B, H, W, 3], values in [0, 1].
        """
        return self.reconstruct(*self._received_pairs(y, no_eff), training)

    def decode_features(self, y: tf.Tensor, no_eff: tf.Tensor,
                        training: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
        """:meth:`decode` that also returns the decoder's feature map on its channel grid.

        Input
        -----
        As :meth:`decode`.

        Output
        ------
        (tf.float32 [B, H, W, 3] in [0, 1], tf.float32 [B, gh, gw, C]) — the images and the
        features (CSC: the last map before upsampling; GSC: the decoder's tokens before its final
        normalization).
        """
        pairs, no = self._received_pairs(y, no_eff)
        logits, feats = self._decode_features(*self._decoder_inputs(pairs, no), training)
        return ops.sigmoid(logits), feats

    def _received_pairs(self, y: tf.Tensor, no_eff: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Checked ``y`` as (re, im) pairs [B, k, 2] and ``no_eff`` broadcast to [B, k]."""
        y = tf.convert_to_tensor(y)
        if y.dtype != tf.complex64:
            y = tf.cast(y, tf.complex64)
        if y.shape.rank != 2 or (y.shape[1] is not None and y.shape[1] != self.k):
            raise ValueError(f"received symbols have shape {tuple(y.shape)}; codec {self.arch!r} "
                             f"expects [B, {self.k}] (k={self.k}). Pass the link output for the "
                             "symbols this codec encoded")
        no = tf.cast(no_eff, tf.float32)
        no = tf.broadcast_to(tf.reshape(no, [-1, 1]) if no.shape.rank in (0, 1) else no,
                             tf.shape(y, out_type=tf.int32))
        return tf.stack([tf.math.real(y), tf.math.imag(y)], axis=-1), no

    # -- the same two steps on (re, im) pairs, keras.ops only (any Keras backend) ----------------
    def symbol_pairs(self, x: Any, snr_db: Any, training: bool = False) -> Any:
        """Images → unit-power channel symbols as real pairs (what :meth:`encode` sends).

        Input
        -----
        x : float32, [B, H, W, 3], values in [0, 1] (not checked; :meth:`encode` checks)
        snr_db : float32, [B]

        Output
        ------
        float32, [B, k, 2] — (re, im) of every symbol, ``mean_i (re² + im²) = 1`` per image.
        """
        z = ops.reshape(self._encode(2.0 * x - 1.0, snr_db, training), [-1, self.k, 2])
        power = ops.mean(ops.sum(ops.square(z), axis=-1), axis=-1)
        return z * ops.rsqrt(power + 1e-12)[:, None, None]

    def reconstruct(self, y: Any, no_eff: Any, training: bool = False) -> Any:
        """Received symbols as real pairs → images (what :meth:`decode` computes).

        Input
        -----
        y : float32, [B, k, 2] — (re, im) of the equalized received symbols.
        no_eff : float32, [B, k] — post-equalization noise variance per symbol.

        Output
        ------
        float32, [B, H, W, 3], values in [0, 1].
        """
        return ops.sigmoid(self._decode(*self._decoder_inputs(y, no_eff), training))

    @staticmethod
    def _decoder_inputs(y: Any, no_eff: Any) -> tuple[Any, Any]:
        """(re, im) pairs and noise variances → the decoder's per-symbol features [B, k, 3] and
        its per-image SNR condition [B] dB."""
        snr_sym = effective_snr_db(no_eff)
        # One condition per image: the SNR that the average noise variance corresponds to.
        snr_img = effective_snr_db(ops.mean(no_eff, axis=-1))
        return ops.concatenate([y, snr_sym[..., None] / 20.0], axis=-1), snr_img

    def call(self, inputs: Any, training: bool = False) -> tf.Tensor:
        """Noiseless round trip ``decode(encode(images, snr_db), 10^(-snr_db/10))``.

        The channel is deliberately not applied here; training and evaluation go through the link
        (:func:`psfl.semantic.train.transmit`). This path exists to build the model and to check a
        codec without a channel.

        Input
        -----
        inputs : (images float32 [B,H,W,3], snr_db float32 scalar or [B])

        Output
        ------
        tf.float32, [B, H, W, 3]
        """
        images, snr_db = inputs
        z = self.encode(images, snr_db, training=training)
        snr = tf.reshape(tf.cast(snr_db, tf.float32), [-1, 1])
        return self.decode(z, tf.pow(10.0, -snr / 10.0), training=training)

    # -- saving ---------------------------------------------------------------------------------
    def build_now(self) -> None:
        """Create all weights by running one dummy image through the encoder and decoder networks.

        Uses only the networks (``keras.ops``), not the TensorFlow symbol interface, so a codec
        builds, saves and loads its weights under any Keras backend.
        """
        h, w = self.image_size
        snr = np.zeros([1], "float32")
        self._encode(np.zeros([1, h, w, 3], "float32"), snr, False)
        self._decode(np.zeros([1, self.k, 3], "float32"), snr, False)
        self.built = True

    def get_build_config(self) -> dict:
        return {"built": True}

    def build_from_config(self, config: dict) -> None:
        self.build_now()

    def get_config(self) -> dict:
        base = super().get_config()
        return {"name": base.get("name"), "trainable": base.get("trainable", True),
                "image_size": list(self.image_size), "k": self.k, "arch": self.arch}

    def describe(self) -> str:
        h, w = self.image_size
        return f"{self.arch!r} ({h}x{w}, k={self.k}, k/n={self.k_over_n:.4g})"
