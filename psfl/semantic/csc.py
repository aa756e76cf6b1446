"""CSC: the convolutional semantic codec (deep joint source-channel coding, DeepJSCC family).

Layout after Bourtsoulatze, Kurka and Gündüz, "Deep joint source-channel coding for wireless image
transmission", IEEE TCCN 2019: five 5×5 convolutions (two with stride 2) with PReLU, the last one
producing ``c = 2k/(h·w)`` real feature maps on the ``h × w = H/4 × W/4`` grid; the decoder mirrors
it with transposed convolutions and a sigmoid. Additions here: SNR FiLM after every hidden layer
(encoder: nominal SNR; decoder: effective SNR from the receiver) and the per-symbol effective SNR
as extra decoder input maps (matters under fading with equalization).

``k`` must be a multiple of ``h·w`` (each grid cell carries ``k/(h·w)`` complex symbols); for
32×32 images that is a multiple of 64, as for the GSC models.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from psfl.semantic.codec import SemanticCodec
from psfl.semantic.layers import SNRFiLM

__all__ = ["CSC"]


@keras.saving.register_keras_serializable(package="psfl")
class CSC(SemanticCodec):
    """DeepJSCC-style CNN codec with SNR side information.

    Parameters
    ----------
    image_size : int or (int, int)
        Image height and width (multiples of 4).
    k : int
        Complex channel symbols per image (a multiple of ``(H/4)·(W/4)``).
    filters : tuple[int, int]
        Widths of the first (stride-2) layer and of the remaining hidden layers (DeepJSCC: 16, 32).
    arch : str
        Preset name recorded in checkpoints.

    Input
    -----
    See :meth:`SemanticCodec.encode` / :meth:`SemanticCodec.decode`.

    Output
    ------
    ``encode``: tf.complex64 [B, k]; ``decode``: tf.float32 [B, H, W, 3].
    """

    family = "csc"
    size_free = True

    def __init__(self, image_size: int | tuple[int, int] = 32, k: int = 512,
                 filters: tuple[int, int] | list[int] = (16, 32), arch: str = "csc", **kwargs):
        super().__init__(image_size, k, arch=arch, **kwargs)
        h, w = self.image_size
        if h % 4 or w % 4:
            raise ValueError(f"image size {h}x{w} is not a multiple of 4, which the CSC's two "
                             "stride-2 layers need; crop to a multiple of 4")
        self.grid = (h // 4, w // 4)
        cells = self.grid[0] * self.grid[1]
        if self.k % cells:
            lo = max(cells, self.k // cells * cells)
            raise ValueError(
                f"k={self.k} does not fit {arch!r}: its {self.grid[0]}x{self.grid[1]} feature grid "
                f"carries k/{cells} symbols per cell; choose k as a multiple of {cells} (e.g. {lo} "
                f"or {lo + cells}), i.e. semantic.k_over_n = {lo}/{self.n}")
        self.filters = (int(filters[0]), int(filters[1]))
        self.out_maps = 2 * self.k // cells
        f1, f2 = self.filters
        conv = keras.layers.Conv2D
        tconv = keras.layers.Conv2DTranspose
        self.enc_layers = [
            conv(f1, 5, strides=2, padding="same", name="enc_conv_0"),
            conv(f2, 5, strides=2, padding="same", name="enc_conv_1"),
            conv(f2, 5, padding="same", name="enc_conv_2"),
            conv(f2, 5, padding="same", name="enc_conv_3"),
        ]
        self.enc_act = [keras.layers.PReLU(shared_axes=[1, 2], name=f"enc_prelu_{i}")
                        for i in range(4)]
        self.enc_film = [SNRFiLM(f, name=f"enc_film_{i}") for i, f in enumerate((f1, f2, f2, f2))]
        self.enc_out = conv(self.out_maps, 5, padding="same", name="enc_out")
        self.dec_layers = [
            tconv(f2, 5, padding="same", name="dec_conv_0"),
            tconv(f2, 5, padding="same", name="dec_conv_1"),
            tconv(f2, 5, padding="same", name="dec_conv_2"),
            tconv(f1, 5, strides=2, padding="same", name="dec_conv_3"),
        ]
        self.dec_act = [keras.layers.PReLU(shared_axes=[1, 2], name=f"dec_prelu_{i}")
                        for i in range(4)]
        self.dec_film = [SNRFiLM(f, name=f"dec_film_{i}") for i, f in enumerate((f2, f2, f2, f1))]
        self.dec_out = tconv(3, 5, strides=2, padding="same", name="dec_out")

    def _encode(self, x: Any, snr_db: Any, training: bool) -> Any:
        for layer, act, film in zip(self.enc_layers, self.enc_act, self.enc_film, strict=True):
            x = film(act(layer(x)), snr_db)
        return ops.reshape(self.enc_out(x), [-1, 2 * self.k])

    def _decode_features(self, feats: Any, snr_db: Any, training: bool) -> tuple[Any, Any]:
        gh, gw = self.grid
        x = ops.reshape(feats, [-1, gh, gw, 3 * self.out_maps // 2])
        hint = x
        for i, (layer, act, film) in enumerate(zip(self.dec_layers, self.dec_act, self.dec_film,
                                                   strict=True)):
            x = film(act(layer(x)), snr_db)
            if i == len(self.dec_layers) - 2:  # the last map on the channel grid
                hint = x
        return self.dec_out(x), hint

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": list(self.filters)}
