"""PLD — personalized local distillation loss.

``L = λ·MSE(x, x̂_s) + (1 − λ)·MSE(x̂_m, x̂_s)``: the student (shared CSC) learns both the images
and its MU's private mentor's reconstructions. The mentor's output is treated as a constant
(no gradient flows into the mentor through this loss).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["pld_loss"]


def pld_loss(x: tf.Tensor, x_student: tf.Tensor, x_mentor: tf.Tensor, lam: float) -> tf.Tensor:
    """Distillation loss of one batch.

    Input
    -----
    x, x_student, x_mentor : tf.float32 [B, H, W, 3] — images, student and mentor reconstructions
    lam : float in [0, 1] — weight of the ground-truth term

    Output
    ------
    tf.float32 scalar
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"distill_lambda must be in [0, 1], got {lam}")
    teacher = tf.stop_gradient(x_mentor)
    truth = tf.reduce_mean(tf.square(x - x_student))
    mimic = tf.reduce_mean(tf.square(teacher - x_student))
    return lam * truth + (1.0 - lam) * mimic
