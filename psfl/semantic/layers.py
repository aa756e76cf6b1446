"""Building blocks shared by the codecs: SNR conditioning (FiLM), patch embedding, transformer.

SNR side information
    Both encoder and decoder know the channel quality. The encoder gets the nominal SNR in dB
    (what the MU's link adaptation would know); the decoder gets the post-equalization noise
    variance ``no_eff`` of every symbol from the receiver (:mod:`psfl.phy`), turned into an
    effective SNR per symbol (an extra input feature) and per image (the FiLM condition).
    Conditioning is FiLM-style: ``x · (1 + γ(s)) + β(s)`` with ``γ, β`` from a small MLP of the
    scaled SNR ``s = SNR_dB / 20``; initialised at the identity so an untrained model ignores it.

The layers and the networks built from them use only ``keras.ops``, so the same codec trains
under any Keras backend (TensorFlow here; JAX or PyTorch on an accelerator machine without
TensorFlow, see :mod:`psfl.semantic.surrogate`) and its weights load across backends.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = [
    "SNR_DB_CLIP",
    "PatchEmbed",
    "PositionEmbedding",
    "SNRFiLM",
    "TransformerBlock",
    "Unpatchify",
    "effective_snr_db",
    "snr_db_per_image",
]

#: Effective SNRs are clipped to this range (dB) before they are fed to a network: a symbol in a
#: deep fade (``no_eff`` → ∞) or a noiseless pass (``no_eff`` = 0) must not produce inf/NaN.
SNR_DB_CLIP = (-30.0, 60.0)


def snr_db_per_image(snr_db: Any, batch: Any) -> Any:
    """Broadcast a scalar or ``[B]`` SNR to ``[B]`` float32."""
    snr = ops.cast(ops.convert_to_tensor(snr_db), "float32")
    return ops.broadcast_to(ops.reshape(snr, [-1]), [batch])


def effective_snr_db(no_eff: Any) -> Any:
    """Effective SNR ``-10·log10(no_eff)`` in dB for unit-power symbols, clipped.

    Input
    -----
    no_eff : float32, any shape — post-equalization noise variance.

    Output
    ------
    float32, same shape.
    """
    no = ops.maximum(ops.cast(no_eff, "float32"), 1e-12)
    snr = (-10.0 / 2.302585092994046) * ops.log(no)
    return ops.clip(snr, *SNR_DB_CLIP)


@keras.saving.register_keras_serializable(package="psfl")
class SNRFiLM(keras.layers.Layer):
    """Feature-wise linear modulation by the SNR: ``x · (1 + γ(s)) + β(s)``.

    Parameters
    ----------
    channels : int
        Size of the last axis of ``x``.
    hidden : int
        Width of the MLP that maps the SNR to ``γ, β``.

    Input
    -----
    x : float32, [B, …, channels]
    snr_db : float32, [B] — SNR in dB per image.

    Output
    ------
    float32, same shape as ``x``.
    """

    def __init__(self, channels: int, hidden: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.hidden = int(hidden)
        self.mlp = keras.layers.Dense(self.hidden, activation="gelu", name="mlp")
        # Zero-initialised output: the layer starts as the identity and learns how much the SNR
        # should matter.
        self.out = keras.layers.Dense(2 * self.channels, kernel_initializer="zeros", name="out")

    def call(self, x: Any, snr_db: Any) -> Any:
        s = ops.reshape(ops.cast(snr_db, "float32") / 20.0, [-1, 1])
        gb = self.out(self.mlp(s))
        gb = ops.reshape(gb, [-1] + [1] * (len(x.shape) - 2) + [2 * self.channels])
        gamma, beta = ops.split(gb, 2, axis=-1)
        return x * (1.0 + gamma) + beta

    def get_config(self) -> dict:
        return {**super().get_config(), "channels": self.channels, "hidden": self.hidden}


@keras.saving.register_keras_serializable(package="psfl")
class PatchEmbed(keras.layers.Layer):
    """Split an image into non-overlapping ``patch × patch`` patches and project each to ``dim``.

    Parameters
    ----------
    patch : int
        Patch side in pixels.
    dim : int
        Token width.

    Input
    -----
    images : float32, [B, H, W, C] — H and W multiples of ``patch``.

    Output
    ------
    float32, [B, (H/patch)·(W/patch), dim]
    """

    def __init__(self, patch: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.patch = int(patch)
        self.dim = int(dim)
        self.proj = keras.layers.Conv2D(self.dim, self.patch, strides=self.patch, name="proj")

    def call(self, images: Any) -> Any:
        x = self.proj(images)
        return ops.reshape(x, [-1, x.shape[1] * x.shape[2], self.dim])

    def get_config(self) -> dict:
        return {**super().get_config(), "patch": self.patch, "dim": self.dim}


@keras.saving.register_keras_serializable(package="psfl")
class PositionEmbedding(keras.layers.Layer):
    """Add a learned position embedding (one vector per token).

    Parameters
    ----------
    num_tokens : int
    dim : int

    Input
    -----
    tokens : float32, [B, num_tokens, dim]

    Output
    ------
    float32, [B, num_tokens, dim]
    """

    def __init__(self, num_tokens: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = int(num_tokens)
        self.dim = int(dim)

    def build(self, input_shape=None) -> None:
        self.pos = self.add_weight(
            name="pos", shape=(1, self.num_tokens, self.dim),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.built = True

    def call(self, tokens: Any) -> Any:
        return tokens + self.pos

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "dim": self.dim}


@keras.saving.register_keras_serializable(package="psfl")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm ViT block: multi-head self-attention and a GELU MLP, both residual.

    Parameters
    ----------
    dim : int
        Token width (a multiple of ``heads``).
    heads : int
        Attention heads.
    mlp_ratio : int
        Hidden width of the MLP in units of ``dim``.

    Input
    -----
    tokens : float32, [B, T, dim]

    Output
    ------
    float32, [B, T, dim]
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.heads, self.mlp_ratio = int(dim), int(heads), int(mlp_ratio)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.attn = keras.layers.MultiHeadAttention(self.heads, self.dim // self.heads, name="attn")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.fc1 = keras.layers.Dense(self.dim * self.mlp_ratio, activation="gelu", name="fc1")
        self.fc2 = keras.layers.Dense(self.dim, name="fc2")

    def call(self, tokens: Any, training: bool = False) -> Any:
        h = self.norm1(tokens)
        x = tokens + self.attn(h, h, training=training)
        return x + self.fc2(self.fc1(self.norm2(x)))

    def get_config(self) -> dict:
        return {**super().get_config(), "dim": self.dim, "heads": self.heads,
                "mlp_ratio": self.mlp_ratio}


@keras.saving.register_keras_serializable(package="psfl")
class Unpatchify(keras.layers.Layer):
    """Project tokens to pixel patches and tile them back into an image.

    Parameters
    ----------
    patch : int
        Patch side in pixels.
    grid : tuple[int, int]
        Patches per column and per row, ``(H/patch, W/patch)``.
    channels : int
        Image channels.

    Input
    -----
    tokens : float32, [B, grid[0]·grid[1], dim]

    Output
    ------
    float32, [B, grid[0]·patch, grid[1]·patch, channels] — pre-activation pixel values.
    """

    def __init__(self, patch: int, grid: tuple[int, int], channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.patch, self.grid, self.channels = int(patch), tuple(int(g) for g in grid), int(channels)
        self.proj = keras.layers.Dense(self.patch * self.patch * self.channels, name="proj")

    def call(self, tokens: Any) -> Any:
        gh, gw, p, c = *self.grid, self.patch, self.channels
        # depth_to_space: token (i, j) holds its patch row-major as (py, px, c).
        x = ops.reshape(self.proj(tokens), [-1, gh, gw, p, p, c])
        x = ops.transpose(x, [0, 1, 3, 2, 4, 5])
        return ops.reshape(x, [-1, gh * p, gw * p, c])

    def get_config(self) -> dict:
        return {**super().get_config(), "patch": self.patch, "grid": list(self.grid),
                "channels": self.channels}


@keras.saving.register_keras_serializable(package="psfl")
class ConvRefiner(keras.layers.Layer):
    """Residual 3×3 convolutions over the decoded image: ``x ← x + f_i(x)`` per block.

    The per-token pixel head decodes each patch alone; these blocks let neighbouring patches'
    pixels meet (the seams and the fine texture a linear head cannot draw). Each block's last
    convolution starts at zero, so a refiner added to a trained codec leaves its output as it
    was until training moves it (a warm start loses nothing).

    Parameters
    ----------
    blocks : int
        Residual blocks (conv 3×3 → GELU → conv 3×3 → GELU → conv 3×3, the last zero-initialized).
    filters : int
        Width of the hidden convolutions.
    channels : int
        Image channels.

    Input
    -----
    float32, [B, H, W, channels] — pre-activation pixel values.

    Output
    ------
    float32, [B, H, W, channels] — the same, refined.
    """

    def __init__(self, blocks: int, filters: int = 32, channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.blocks, self.filters, self.channels = int(blocks), int(filters), int(channels)

        def conv(width: int, name: str, **kw: Any) -> keras.layers.Conv2D:
            return keras.layers.Conv2D(width, 3, padding="same", name=name, **kw)

        self.convs = [(conv(self.filters, f"b{i}_in", activation="gelu"),
                       conv(self.filters, f"b{i}_mid", activation="gelu"),
                       conv(self.channels, f"b{i}_out", kernel_initializer="zeros"))
                      for i in range(self.blocks)]

    def call(self, x: Any) -> Any:
        for first, mid, out in self.convs:
            x = x + out(mid(first(x)))
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "blocks": self.blocks, "filters": self.filters,
                "channels": self.channels}
