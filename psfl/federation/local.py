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
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from psfl.federation.distill import pld_loss
from psfl.semantic.codec import SemanticCodec
from psfl.semantic.metrics import image_metrics
from psfl.semantic.train import transmit

__all__ = ["OBJECTIVES", "evaluate", "train_mentor", "train_student"]

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


def train_mentor(mentor: SemanticCodec, link: LinkFn, images: np.ndarray, *, steps: int,
                 batch_size: int, learning_rate: float, snr_db: float, seed: int,
                 snr_spread_db: float = 3.0) -> dict[str, float]:
    """Train the MU's private mentor through its channel (MSE).

    Input
    -----
    images : float32 [N, H, W, 3] in [0, 1] — the MU's local training set

    Output
    ------
    dict: ``loss_first``, ``loss_last`` (MSE of the first and last step), ``images`` processed.
    """
    if steps <= 0:
        return {"loss_first": float("nan"), "loss_last": float("nan"), "images": 0}
    opt = keras.optimizers.Adam(learning_rate)
    rng = np.random.default_rng(seed)

    @tf.function(reduce_retracing=True)
    def step(x: tf.Tensor, snr: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(x - transmit(mentor, link, x, snr, training=True)))
        grads = tape.gradient(loss, mentor.trainable_variables)
        opt.apply_gradients(zip(grads, mentor.trainable_variables, strict=True))
        return loss

    losses = [float(step(x, _snr_draw(snr_db, snr_spread_db, len(x), rng)))
              for x in _batches(images, batch_size, steps, rng)]
    return {"loss_first": losses[0], "loss_last": losses[-1], "images": steps * batch_size}


def train_student(student: SemanticCodec, link: LinkFn, images: np.ndarray, *, steps: int,
                  batch_size: int, learning_rate: float, snr_db: float, seed: int,
                  objective: str = "mse", mentor: SemanticCodec | None = None,
                  distill_lambda: float = 0.5, proximal_mu: float = 0.0,
                  masks: Sequence[np.ndarray] | None = None,
                  snr_spread_db: float = 3.0) -> dict[str, float]:
    """Train the shared student for one round (see the module docstring for the objectives).

    Parameters
    ----------
    student
        The CSC, holding the (possibly pruned) global weights on entry; trained in place.
    link
        ``link(x, snr_db) -> (y, no_eff)``.
    images
        float32 [N, H, W, 3] in [0, 1].
    objective
        ``"pld"`` (needs ``mentor``), ``"mse"`` or ``"prox"``.
    masks
        AGP masks in ``student.get_weights()`` order; re-applied after every step.

    Output
    ------
    dict: ``loss_first``, ``loss_last``, ``images`` processed.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {OBJECTIVES}")
    if objective == "pld" and mentor is None:
        raise ValueError("objective 'pld' needs the MU's mentor")
    if steps <= 0:
        return {"loss_first": float("nan"), "loss_last": float("nan"), "images": 0}
    opt = keras.optimizers.Adam(learning_rate)
    rng = np.random.default_rng(seed)
    variables = student.trainable_variables
    anchors = [tf.constant(v.numpy()) for v in variables] if objective == "prox" else None
    mask_by_var = _masks_by_variable(student, masks)

    @tf.function(reduce_retracing=True)
    def step(x: tf.Tensor, snr: tf.Tensor) -> tf.Tensor:
        teacher = transmit(mentor, link, x, snr) if objective == "pld" else None
        with tf.GradientTape() as tape:
            x_s = transmit(student, link, x, snr, training=True)
            if objective == "pld":
                loss = pld_loss(x, x_s, teacher, distill_lambda)
            else:
                loss = tf.reduce_mean(tf.square(x - x_s))
            if anchors is not None:
                loss += 0.5 * proximal_mu * tf.add_n(
                    [tf.reduce_sum(tf.square(v - a)) for v, a in zip(variables, anchors,
                                                                      strict=True)])
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        for v, m in mask_by_var:
            v.assign(v * m)
        return loss

    losses = [float(step(x, _snr_draw(snr_db, snr_spread_db, len(x), rng)))
              for x in _batches(images, batch_size, steps, rng)]
    return {"loss_first": losses[0], "loss_last": losses[-1], "images": steps * batch_size}


def _masks_by_variable(model: keras.Model, masks: Sequence[np.ndarray] | None
                       ) -> list[tuple[Any, tf.Tensor]]:
    """Pair each non-trivial mask with its model variable (``get_weights()`` order)."""
    if masks is None:
        return []
    weights = model.weights
    if len(masks) != len(weights):
        raise ValueError(f"{len(masks)} masks for a model with {len(weights)} weight tensors")
    return [(v, tf.constant(m, dtype=v.dtype)) for v, m in zip(weights, masks, strict=True)
            if not np.all(m)]


def evaluate(codec: SemanticCodec, link: LinkFn, images: np.ndarray, snr_db: float,
             batch_size: int = 128, seed: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM of ``codec`` over ``link`` at ``snr_db`` on ``images`` (one channel draw per
    batch; seeded so that two models compared in one round see comparable draws)."""
    tf.random.set_seed(seed)
    psnr, ssim = [], []
    for i in range(0, len(images), batch_size):
        x = tf.constant(images[i:i + batch_size])
        x_hat = transmit(codec, link, x, tf.fill([len(x)], float(snr_db)))
        m = image_metrics(x, x_hat)
        psnr.append(m["psnr"])
        ssim.append(m["ssim"])
    return {"psnr": float(np.mean(np.concatenate(psnr))),
            "ssim": float(np.mean(np.concatenate(ssim)))}
