"""Training a codec under any Keras backend through a per-symbol model of the link.

TensorFlow and Sionna run :class:`psfl.phy.UplinkLink`; an accelerator machine may have only JAX
or PyTorch. The codec networks use ``keras.ops`` alone (:mod:`psfl.semantic.layers`), so they
train there too, through this module's stand-in for the link, and the weights come back to be
evaluated through the real link (``benchmarks/train_accel.py``).

The stand-in. With perfect CSI and one receive antenna, :class:`~psfl.phy.UplinkLink` combines
``ŷ = h*·y/|h|²`` with ``N0_eff = N0/|h|²`` (:func:`psfl.phy.estimation.combine`), so every symbol
arrives as

    ``ŷ_i = z_i + n_i``,  ``n_i ~ CN(0, N0/g_i)``,  ``no_eff_i = N0/g_i``,  ``N0 = 10^(-SNR/10)``,

with ``g_i = |h|²`` at the symbol's resource element. For AWGN ``g_i = 1`` and the stand-in is
exact in distribution. For fading channels the gains ``g`` (jointly over the ``k`` symbols of an
image: same slot, correlated subcarriers) are sampled from the real link once by
:func:`gain_table` and drawn row by row during training. Not modelled: LS estimation error
(``csi="ls"``) and several receive antennas; evaluate such settings through the real link.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
from keras import ops

from psfl.semantic.codec import SemanticCodec

__all__ = ["SurrogateTrainer", "TimeBudget", "gain_table"]


def gain_table(link: Any, k: int, rows: int, batch: int = 256, seed: int = 0) -> np.ndarray:
    """Sample the channel gain ``|h|²`` that each of ``k`` symbols sees on ``link``.

    Parameters
    ----------
    link : psfl.phy.UplinkLink
        A link with one receive antenna (TensorFlow and Sionna needed).
    k : int
        Symbols per image, mapped as the codec's are.
    rows : int
        Independent channel realizations (one row per image).
    batch : int
        Realizations per link call.
    seed : int
        Sionna's seed for the draw.

    Output
    ------
    np.ndarray, float32, [rows, k] — the gains; their mean is about 1 (normalized channels).
    """
    import sionna.phy
    import tensorflow as tf

    if link.cfg.num_rx_ant != 1:
        raise ValueError(f"gain_table models one receive antenna; the link has "
                         f"{link.cfg.num_rx_ant} (set phy.num_rx_ant = 1)")
    if link.uses_link_budget:
        raise ValueError(f"channel {link.cfg.channel!r} carries a link budget; the stand-in "
                         "needs a normalized channel (awgn, rayleigh, tdl-*, cdl-*)")
    sionna.phy.config.seed = seed
    z = tf.ones([batch, k], tf.complex64)
    out = [link.simulate(z, 0.0)["gain"].numpy() for _ in range(-(-rows // batch))]
    return np.concatenate(out)[:rows].astype(np.float32)


class SurrogateTrainer(keras.Model):
    """``images → encode → per-symbol channel → decode`` as one Keras model, for ``fit``.

    Parameters
    ----------
    codec : SemanticCodec
        The codec to train (its networks; built).
    gains : array [R, k] or None
        Channel gains per symbol from :func:`gain_table`; ``None`` is AWGN.
    snr_db_range : (float, float)
        SNR (dB) drawn uniformly per image per step.
    seed : int
        Seed of the SNR, gain-row and noise draws.

    Input
    -----
    images : float32, [B, H, W, 3] in [0, 1]

    Output
    ------
    float32, [B, H, W, 3] — reconstructions after the channel.
    """

    def __init__(self, codec: SemanticCodec, gains: Any = None,
                 snr_db_range: tuple[float, float] = (0.0, 20.0), seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        lo, hi = (float(v) for v in snr_db_range)
        if not lo <= hi:
            raise ValueError(f"SNR range {snr_db_range} is empty; give (min, max) with min <= max")
        self.codec = codec
        self.snr_db_range = (lo, hi)
        self.num_gains = 0
        if gains is not None:
            gains = np.asarray(gains, np.float32)
            if gains.ndim != 2 or gains.shape[1] != codec.k:
                raise ValueError(f"gains have shape {gains.shape}; the codec sends k={codec.k} "
                                 f"symbols, so give [rows, {codec.k}] (gain_table(link, k, rows))")
            self.num_gains = gains.shape[0]
            self.gains = ops.convert_to_tensor(gains)
        self.seeds = keras.random.SeedGenerator(seed)

    def channel(self, z: Any, snr_db: Any) -> tuple[Any, Any]:
        """The per-symbol stand-in of the link (module docstring).

        Input
        -----
        z : float32, [B, k, 2] — symbols as (re, im) pairs.
        snr_db : float32, [B]

        Output
        ------
        y : float32, [B, k, 2] — equalized received symbols.
        no_eff : float32, [B, k] — post-equalization noise variance.
        """
        b, k = ops.shape(z)[0], ops.shape(z)[1]
        no_eff = ops.broadcast_to(ops.power(10.0, -snr_db / 10.0)[:, None], (b, k))
        if self.num_gains:
            rows = keras.random.randint((b,), 0, self.num_gains, seed=self.seeds)
            no_eff = no_eff / ops.maximum(ops.take(self.gains, rows, axis=0), 1e-12)
        noise = keras.random.normal((b, k, 2), seed=self.seeds)
        return z + noise * ops.sqrt(no_eff / 2.0)[..., None], no_eff

    def call(self, images: Any, training: bool = False) -> Any:
        snr = keras.random.uniform((ops.shape(images)[0],), *self.snr_db_range, seed=self.seeds)
        y, no_eff = self.channel(self.codec.symbol_pairs(images, snr, training), snr)
        return self.codec.reconstruct(y, no_eff, training)


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit`` after ``seconds`` of wall time; divide the learning rate by ``decay`` for the
    last ``tail`` fraction of it (a step schedule that fits a time budget, not a step count).

    Parameters
    ----------
    seconds : float
        Wall-time budget of the whole ``fit`` call, tracing included.
    tail : float
        Fraction of the budget at the lowered rate.
    decay : float
        Learning-rate divisor for the tail.
    """

    def __init__(self, seconds: float, tail: float = 0.2, decay: float = 10.0):
        super().__init__()
        self.seconds, self.tail, self.decay = float(seconds), float(tail), float(decay)
        self.t0 = time.monotonic()
        self.decayed = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.t0 = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        elapsed = time.monotonic() - self.t0
        if not self.decayed and elapsed > (1.0 - self.tail) * self.seconds:
            lr = self.model.optimizer.learning_rate
            lr.assign(float(ops.convert_to_numpy(lr)) / self.decay)
            self.decayed = True
        if elapsed > self.seconds:
            self.model.stop_training = True
