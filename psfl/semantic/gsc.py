"""GSC: the generative-AI-assisted semantic codec (ViT / MAE-style transformer encoder and decoder).

Encoder: PatchEmbed (``patch × patch`` pixels → one token) + learned position embedding → ``depth``
ViT blocks (multi-head self-attention + MLP), each followed by SNR FiLM → LayerNorm → dense channel
encoder applied per token (token → ``k/T`` complex symbols) → power normalization.

Decoder (MAE-style, lighter than the encoder): dense channel decoder per token (``k/T`` received
symbols and their effective SNRs → token) + its own position embedding → ``decoder_depth`` blocks
with SNR FiLM → LayerNorm → per-token pixel head → ``refine`` residual 3×3 convolution blocks
over the whole image (:class:`~psfl.semantic.layers.ConvRefiner`; none by default) → image.

Tokens carry ``k/T`` symbols each, so ``k`` must be a multiple of the token count
``T = (H/patch)·(W/patch)``. With the default patch (4 px for 32×32 images) and ``k/n = 1/6``,
``T = 64`` and each token carries 8 symbols.

The sizes s/m/l are presets, one module each in :mod:`psfl.semantic.presets`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from psfl.semantic.codec import SemanticCodec
from psfl.semantic.layers import (
    ConvRefiner,
    PatchEmbed,
    PositionEmbedding,
    SNRFiLM,
    TransformerBlock,
    Unpatchify,
)

__all__ = ["GSC", "default_patch"]


def default_patch(image_size: tuple[int, int]) -> int:
    """Smallest patch side (power of two, ≥ 4) that keeps the token count at or below 64."""
    h, w = image_size
    p = 4
    while (h // p) * (w // p) > 64 and p < min(h, w):
        p *= 2
    return p


@keras.saving.register_keras_serializable(package="psfl")
class GSC(SemanticCodec):
    """ViT/MAE-style semantic codec.

    Parameters
    ----------
    image_size : int or (int, int)
        Image height and width (multiples of ``patch``).
    k : int
        Complex channel symbols per image (a multiple of the token count).
    dim, depth, decoder_depth, heads, mlp_ratio : int
        Transformer width, encoder and decoder blocks, attention heads, MLP expansion.
    patch : int or None
        Patch side; ``None`` picks :func:`default_patch`.
    refine, refine_filters : int
        Residual convolution blocks after the pixel head, and their width (0: none).
    arch : str
        Preset name recorded in checkpoints.

    Input
    -----
    See :meth:`SemanticCodec.encode` / :meth:`SemanticCodec.decode`.

    Output
    ------
    ``encode``: tf.complex64 [B, k]; ``decode``: tf.float32 [B, H, W, 3].
    """

    family = "gsc"

    def __init__(self, image_size: int | tuple[int, int] = 32, k: int = 512, dim: int = 64,
                 depth: int = 2, decoder_depth: int = 1, heads: int = 4, mlp_ratio: int = 2,
                 patch: int | None = None, refine: int = 0, refine_filters: int = 32,
                 arch: str = "gsc", **kwargs):
        super().__init__(image_size, k, arch=arch, **kwargs)
        h, w = self.image_size
        self.patch = int(patch) if patch else default_patch(self.image_size)
        p = self.patch
        if h % p or w % p:
            raise ValueError(f"image size {h}x{w} is not a multiple of the GSC patch size {p}; "
                             f"use an image size that is a multiple of {p}")
        self.grid = (h // p, w // p)
        self.tokens = self.grid[0] * self.grid[1]
        if self.k % self.tokens:
            lo = max(self.tokens, self.k // self.tokens * self.tokens)
            raise ValueError(
                f"k={self.k} does not fit {arch!r}: it sends k/T symbols per token and has "
                f"T={self.tokens} tokens ({h}x{w} image, {p}x{p} patches); choose k as a multiple "
                f"of {self.tokens} (e.g. {lo} or {lo + self.tokens}), i.e. semantic.k_over_n = "
                f"{lo}/{self.n}")
        if dim % heads:
            raise ValueError(f"GSC dim={dim} is not a multiple of heads={heads}")
        self.sym_per_token = self.k // self.tokens
        self.dim, self.depth, self.decoder_depth = int(dim), int(depth), int(decoder_depth)
        self.heads, self.mlp_ratio = int(heads), int(mlp_ratio)
        self.refine, self.refine_filters = int(refine), int(refine_filters)

        self.embed = PatchEmbed(p, self.dim, name="patch_embed")
        self.enc_pos = PositionEmbedding(self.tokens, self.dim, name="enc_pos")
        self.enc_blocks = [TransformerBlock(self.dim, self.heads, self.mlp_ratio, name=f"enc_{i}")
                           for i in range(self.depth)]
        self.enc_film = [SNRFiLM(self.dim, name=f"enc_film_{i}") for i in range(self.depth)]
        self.enc_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="enc_norm")
        self.channel_encoder = keras.layers.Dense(2 * self.sym_per_token, name="channel_encoder")

        self.channel_decoder = keras.Sequential([
            keras.layers.Dense(self.dim, activation="gelu"),
            keras.layers.Dense(self.dim),
        ], name="channel_decoder")
        self.dec_pos = PositionEmbedding(self.tokens, self.dim, name="dec_pos")
        self.dec_blocks = [TransformerBlock(self.dim, self.heads, self.mlp_ratio, name=f"dec_{i}")
                           for i in range(self.decoder_depth)]
        self.dec_film = [SNRFiLM(self.dim, name=f"dec_film_{i}") for i in range(self.decoder_depth)]
        self.dec_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="dec_norm")
        self.head = Unpatchify(p, self.grid, 3, name="head")
        # created last: its weights follow the transformer's in get_weights()
        self.refiner = (ConvRefiner(self.refine, self.refine_filters, name="refiner")
                        if self.refine else None)

    def _encode(self, x: Any, snr_db: Any, training: bool) -> Any:
        t = self.enc_pos(self.embed(x))
        for block, film in zip(self.enc_blocks, self.enc_film, strict=True):
            t = film(block(t, training=training), snr_db)
        t = self.channel_encoder(self.enc_norm(t))
        return ops.reshape(t, [-1, 2 * self.k])

    def _decode_features(self, feats: Any, snr_db: Any, training: bool) -> tuple[Any, Any]:
        t = ops.reshape(feats, [-1, self.tokens, 3 * self.sym_per_token])
        t = self.dec_pos(self.channel_decoder(t))
        for block, film in zip(self.dec_blocks, self.dec_film, strict=True):
            t = film(block(t, training=training), snr_db)
        x = self.head(self.dec_norm(t))
        # the features before the final LayerNorm: after it every token has the same energy
        return (x if self.refiner is None else self.refiner(x),
                ops.reshape(t, [-1, self.grid[0], self.grid[1], self.dim]))

    def get_config(self) -> dict:
        return {**super().get_config(), "dim": self.dim, "depth": self.depth,
                "decoder_depth": self.decoder_depth, "heads": self.heads,
                "mlp_ratio": self.mlp_ratio, "patch": self.patch, "refine": self.refine,
                "refine_filters": self.refine_filters}
