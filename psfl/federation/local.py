"""What an MU does in a round: train its mentor, train (distil into) the shared student, evaluate.

Plain functions over Keras codecs and a link callable; the Flower ClientApp and the bare loop
both call these.

Local objectives of the student (the CSC), by strategy:

* ``pld``   — ``λ·MSE(x, x̂_s) + (1 − λ)·MSE(x̂_m, x̂_s)`` with the MU's mentor ``m`` (PSFL);
* ``mse``   — ``MSE(x, x̂_s)`` (FedAvg, PSFL without PLD, local-only);
* ``prox``  — ``MSE(x, x̂_s) + μ/2·‖w − w_global‖²`` (FedProx).

Under AGP the student arrives pruned; its mask is re-applied after every optimizer step, so the
update it returns is sparse on the same support and the BS knows the positions (uplink costs
values only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from psfl.federation.distill import pld_loss
from psfl.semantic.codec import SemanticCodec
from psfl.semantic.metrics import image_metrics
from psfl.semantic.train import transmit

__all__ = ["OBJECTIVES", "Evaluator", "LocalTrainer"]

LinkFn = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]
OBJECTIVES = ("pld", "mse", "prox")


def _batches(images: np.ndarray, batch_size: int, steps: int, rng: np.random.Generator):
    n = len(images)
    for _ in range(steps):
        idx = rng.choice(n, size=min(batch_size, n), replace=n < batch_size)
        yield tf.constant(images[np.sort(idx)])


def _snr_draw(snr_db: float, spread_db: float, batch: int, rng: np.random.Generator) -> tf.Tensor:
    return tf.constant(rng.uniform(snr_db - spread_db, snr_db + spread_db, size=batch)
                       .astype(np.float32))


class LocalTrainer:
    """Compiled local training of one codec over one link, traced once and reused every round.

    Tracing the codec and the Sionna link costs 10–20 s on a small CPU, a training step tens of
    milliseconds; so an MU keeps one trainer per model for the whole run. AGP masks and FedProx
    anchors live in variables that are re-assigned each round, so nothing is traced again.

    Parameters
    ----------
    codec
        The model to train (in place).
    link
        ``link(x, snr_db) -> (y, no_eff)``.
    learning_rate
        Adam learning rate.
    objective
        ``"mse"``, ``"prox"`` or ``"pld"`` (module docstring).
    mentor
        The teacher for ``"pld"``.
    distill_lambda, proximal_mu
        Weights of the PLD and FedProx objectives.
    """

    def __init__(self, codec: SemanticCodec, link: LinkFn, *, learning_rate: float,
                 objective: str = "mse", mentor: SemanticCodec | None = None,
                 distill_lambda: float = 0.5, proximal_mu: float = 0.0):
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; use one of {OBJECTIVES}")
        if objective == "pld" and mentor is None:
            raise ValueError("objective 'pld' needs the MU's mentor")
        self.codec, self.link, self.objective = codec, link, objective
        self.opt = keras.optimizers.Adam(learning_rate)
        variables = codec.trainable_variables
        self._masks = [tf.Variable(tf.ones_like(v), trainable=False) for v in variables]
        self._anchors = ([tf.Variable(v, trainable=False) for v in variables]
                         if objective == "prox" else None)

        @tf.function(input_signature=_signature(codec))
        def step(x: tf.Tensor, snr: tf.Tensor) -> tf.Tensor:
            teacher = transmit(mentor, link, x, snr) if objective == "pld" else None
            with tf.GradientTape() as tape:
                x_s = transmit(codec, link, x, snr, training=True)
                if objective == "pld":
                    loss = pld_loss(x, x_s, teacher, distill_lambda)
                else:
                    loss = tf.reduce_mean(tf.square(x - x_s))
                if self._anchors is not None:
                    loss += 0.5 * proximal_mu * tf.add_n(
                        [tf.reduce_sum(tf.square(v - a))
                         for v, a in zip(variables, self._anchors, strict=True)])
            grads = tape.gradient(loss, variables)
            self.opt.apply_gradients(zip(grads, variables, strict=True))
            for v, m in zip(variables, self._masks, strict=True):
                v.assign(v * m)
            return loss

        self._step = step

    def _set_masks(self, masks: Sequence[np.ndarray] | None) -> None:
        by_var = _masks_by_variable(self.codec, masks)
        for v, m in zip(self.codec.trainable_variables, self._masks, strict=True):
            m.assign(by_var.get(id(v), tf.ones_like(v)))

    def reset_optimizer(self) -> None:
        """Forget Adam's moments and step count (a new round starts from new global weights);
        the learning rate, also an optimizer variable, is kept."""
        for v in self.opt.variables:
            if v is not self.opt.learning_rate and "learning_rate" not in v.path:
                v.assign(tf.zeros_like(v))

    def fit(self, images: np.ndarray, *, steps: int, batch_size: int, snr_db: float, seed: int,
            masks: Sequence[np.ndarray] | None = None,
            snr_spread_db: float = 3.0) -> dict[str, float]:
        """Train ``steps`` batches drawn from ``images`` at SNRs around ``snr_db``.

        Input
        -----
        images : float32 [N, H, W, 3] in [0, 1]
        masks : AGP masks in ``codec.get_weights()`` order (``None``: dense); applied after
            every step so pruned entries stay zero.

        Output
        ------
        dict: ``loss_first``, ``loss_last`` (first and last step), ``images`` processed.
        """
        if steps <= 0:
            return {"loss_first": float("nan"), "loss_last": float("nan"), "images": 0}
        self._set_masks(masks)
        if self._anchors is not None:
            for a, v in zip(self._anchors, self.codec.trainable_variables, strict=True):
                a.assign(v)
        rng = np.random.default_rng(seed)
        losses = [float(self._step(x, _snr_draw(snr_db, snr_spread_db, len(x), rng)))
                  for x in _batches(images, batch_size, steps, rng)]
        return {"loss_first": losses[0], "loss_last": losses[-1],
                "images": steps * min(batch_size, len(images))}


def _signature(codec: SemanticCodec) -> list[tf.TensorSpec]:
    """Any batch size, the codec's image size: one trace per codec."""
    h, w = codec.image_size
    return [tf.TensorSpec([None, h, w, 3], tf.float32), tf.TensorSpec([None], tf.float32)]


def _masks_by_variable(model: keras.Model, masks: Sequence[np.ndarray] | None
                       ) -> dict[int, tf.Tensor]:
    """Map ``id(variable)`` → mask for the masks given in ``get_weights()`` order."""
    if masks is None:
        return {}
    weights = model.weights
    if len(masks) != len(weights):
        raise ValueError(f"{len(masks)} masks for a model with {len(weights)} weight tensors")
    return {id(v): tf.constant(m, dtype=v.dtype) for v, m in zip(weights, masks, strict=True)}


class Evaluator:
    """Compiled evaluation of one codec over one link (traced once, reused every round).

    Input (``__call__``)
    -----
    images : float32 [N, H, W, 3] in [0, 1]; snr_db : float

    Output
    ------
    dict: mean ``psnr`` [dB] and ``ssim`` over the images.
    """

    def __init__(self, codec: SemanticCodec, link: LinkFn, batch_size: int = 128):
        self.batch_size = batch_size
        self._forward = tf.function(lambda x, snr: transmit(codec, link, x, snr),
                                    input_signature=_signature(codec))

    def __call__(self, images: np.ndarray, snr_db: float) -> dict[str, float]:
        psnr, ssim = [], []
        for i in range(0, len(images), self.batch_size):
            x = tf.constant(images[i:i + self.batch_size])
            m = image_metrics(x, self._forward(x, tf.fill([len(x)], float(snr_db))))
            psnr.append(m["psnr"])
            ssim.append(m["ssim"])
        return {"psnr": float(np.mean(np.concatenate(psnr))),
                "ssim": float(np.mean(np.concatenate(ssim)))}
