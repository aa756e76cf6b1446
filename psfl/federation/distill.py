"""PLD — personalized local distillation: the losses and the rule that decides whether to distil.

``pld`` (the paper's, as specified): ``L = λ·MSE(x, x̂_s) + (1 − λ)·MSE(x̂_m, x̂_s)``: the student
(shared CSC) learns both the images and its MU's private mentor's reconstructions. The mentor's
output is a constant (no gradient flows into the mentor through this loss).

Variants (ours: the paper distils unconditionally; a teacher worse than its student can only
pull the student down, which is what the study measured with under-trained mentors):

* ``round-gate`` — distil in a round only if the mentor, after its own local training, is better
  than the student as received on a fixed sample of the MU's *training* images (the images it is
  about to distil on; no test image decides): :func:`teacher_is_better`. Otherwise the student's
  objective in that round is ``MSE(x, x̂_s)``.
* ``per-image`` — per image ``i`` of a batch, the teacher term is used only where the mentor's
  reconstruction is closer to the image than the student's (``w_i = [e_m,i < e_s,i]``, errors
  without gradient): ``L = mean_i[(λ + (1−λ)(1−w_i))·MSE_i(x, x̂_s) + (1−λ)·w_i·MSE_i(x̂_m, x̂_s)]``
  (:func:`pld_per_image_loss`); with ``w ≡ 1`` it equals ``pld``.
* ``feature`` — ``pld`` plus attention transfer of the decoders' features on their channel grids
  (Zagoruyko & Komodakis, ICLR 2017; the squared distance and the decoder as the place are
  ours): with ``A(h) = vec(mean_c h²) / ‖vec(mean_c h²)‖₂`` (the finer grid average-pooled to
  the coarser), ``L = pld + β·mean_i ‖A(h_s,i) − A(h_m,i)‖²`` (:func:`pld_feature_loss`). No
  weights beyond the student's: a CSC's and a GSC's features differ in width, and a learned
  projection would be one more private model per MU.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["DISTILL_MODES", "attention_map", "attention_transfer", "pld_feature_loss", "pld_loss",
           "pld_per_image_loss", "teacher_is_better"]

DISTILL_MODES: tuple[str, ...] = ("pld", "round-gate", "per-image", "feature")


def _check(lam: float) -> None:
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"distill_lambda must be in [0, 1], got {lam}")


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
    _check(lam)
    teacher = tf.stop_gradient(x_mentor)
    truth = tf.reduce_mean(tf.square(x - x_student))
    mimic = tf.reduce_mean(tf.square(teacher - x_student))
    return lam * truth + (1.0 - lam) * mimic


def pld_per_image_loss(x: tf.Tensor, x_student: tf.Tensor, x_mentor: tf.Tensor,
                       lam: float) -> tf.Tensor:
    """The ``per-image`` variant (module docstring); same shapes as :func:`pld_loss`."""
    _check(lam)
    teacher = tf.stop_gradient(x_mentor)
    truth = tf.reduce_mean(tf.square(x - x_student), axis=[1, 2, 3])
    mimic = tf.reduce_mean(tf.square(teacher - x_student), axis=[1, 2, 3])
    e_m = tf.reduce_mean(tf.square(teacher - x), axis=[1, 2, 3])
    w = tf.cast(e_m < tf.stop_gradient(truth), tf.float32)
    return tf.reduce_mean((lam + (1.0 - lam) * (1.0 - w)) * truth + (1.0 - lam) * w * mimic)


def attention_map(h: tf.Tensor, grid: tuple[int, int] | None = None) -> tf.Tensor:
    """``A(h)`` of the module docstring.

    Input
    -----
    h : tf.float32 [B, gh, gw, C] — a decoder's feature map
    grid : (int, int) or None — average-pool the map to this grid first (a divisor of it)

    Output
    ------
    tf.float32 [B, gh·gw] — unit L2 norm per image
    """
    q = tf.reduce_mean(tf.square(h), axis=-1, keepdims=True)
    if grid is not None and tuple(q.shape[1:3]) != tuple(grid):
        q = tf.image.resize(q, grid, method="area")
    return tf.math.l2_normalize(tf.reshape(q, [tf.shape(q)[0], -1]), axis=-1, epsilon=1e-12)


def attention_transfer(h_student: tf.Tensor, h_mentor: tf.Tensor) -> tf.Tensor:
    """``mean_i ‖A(h_s,i) − A(h_m,i)‖²`` on the coarser of the two grids (no gradient into the
    mentor); tf.float32 scalar in [0, 2]."""
    gs, gm = tuple(h_student.shape[1:3]), tuple(h_mentor.shape[1:3])
    grid = gs if gs[0] * gs[1] <= gm[0] * gm[1] else gm
    diff = attention_map(h_student, grid) - tf.stop_gradient(attention_map(h_mentor, grid))
    return tf.reduce_mean(tf.reduce_sum(tf.square(diff), axis=-1))


def pld_feature_loss(x: tf.Tensor, x_student: tf.Tensor, x_mentor: tf.Tensor, lam: float,
                     beta: float, *, h: tf.Tensor, h_teacher: tf.Tensor) -> tf.Tensor:
    """The ``feature`` variant (module docstring): :func:`pld_loss` ``+ β·``
    :func:`attention_transfer`; ``h``, ``h_teacher`` : tf.float32 [B, gh, gw, C] (their widths
    and grids may differ)."""
    if beta < 0:
        raise ValueError(f"distill_feature_weight must be >= 0, got {beta}")
    return pld_loss(x, x_student, x_mentor, lam) + beta * attention_transfer(h, h_teacher)


def teacher_is_better(mentor_psnr_db: float, student_psnr_db: float) -> bool:
    """The ``round-gate`` rule: distil only from a strictly better teacher."""
    return mentor_psnr_db > student_psnr_db
