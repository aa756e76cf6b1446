"""What an MU does in a round: train its mentor, train (distil into) the shared student, evaluate.

Plain functions over Keras codecs and a link callable; the Flower ClientApp and the bare loop
both call these.

Local objectives of the student (the CSC), the ``objective`` a strategy sends
(:mod:`psfl.federation.strategies`):

* ``pld``   — ``λ·MSE(x, x̂_s) + (1 − λ)·MSE(x̂_m, x̂_s)`` with the MU's mentor ``m`` (PSFL);
* ``mse``   — ``MSE(x, x̂_s)`` (FedAvg, FedAdam, PSFL without PLD, local-only);
* ``prox``  — ``MSE(x, x̂_s) + μ/2·‖w − w_global‖²`` (FedProx).

Under AGP the student arrives pruned; its mask is re-applied after every optimizer step, so the
update it returns is sparse on the same support and the BS knows the positions (uplink costs
values only).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import keras
import numpy as np

from psfl.federation.distill import pld_feature_loss, pld_loss, pld_per_image_loss
from psfl.semantic.codec import SemanticCodec
from psfl.semantic.train import Trainer, evaluate_codec, mse_loss

if TYPE_CHECKING:
    from psfl.phy.link import LinkFn

__all__ = ["OBJECTIVES", "Evaluator", "local_fit", "local_trainer"]

OBJECTIVES = ("pld", "mse", "prox")


def local_trainer(codec: SemanticCodec, link: LinkFn, *, learning_rate: float,
                  objective: str = "mse", mentor: SemanticCodec | None = None,
                  distill_lambda: float = 0.5, proximal_mu: float = 0.0,
                  distill: str = "pld", feature_weight: float = 0.0) -> Trainer:
    """psfl's one :class:`~psfl.semantic.train.Trainer` set up for an MU's local objective.

    Tracing the codec and the Sionna link costs 10–20 s on a small CPU, a training step tens of
    milliseconds; so an MU keeps one trainer per model and objective for the whole run. AGP
    masks and FedProx anchors live in variables that are re-assigned each round, so nothing is
    traced again.

    Parameters
    ----------
    objective : ``"mse"``, ``"prox"`` or ``"pld"`` (module docstring); mentor : the teacher of
    ``"pld"``; distill_lambda, proximal_mu : weights of the PLD and FedProx objectives;
    distill : the PLD variant's loss (:mod:`psfl.federation.distill`: ``"per-image"`` uses
    :func:`~psfl.federation.distill.pld_per_image_loss`, ``"feature"``
    :func:`~psfl.federation.distill.pld_feature_loss` with weight ``feature_weight``, the others
    :func:`pld_loss`).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {OBJECTIVES}")
    if objective == "pld" and mentor is None:
        raise ValueError("objective 'pld' needs the MU's mentor")
    features = objective == "pld" and distill == "feature"
    variants = {"per-image": pld_per_image_loss,
                "feature": functools.partial(pld_feature_loss, beta=feature_weight)}
    pld = variants.get(distill, pld_loss)
    loss = functools.partial(pld, lam=distill_lambda) if objective == "pld" else mse_loss
    return Trainer(codec, link, keras.optimizers.Adam(learning_rate), loss=loss,
                   teacher=mentor if objective == "pld" else None,
                   proximal_mu=proximal_mu if objective == "prox" else 0.0, features=features)


def local_fit(trainer: Trainer, images: np.ndarray, *, steps: int, batch_size: int,
              snr_db: float, seed: int, masks: Sequence[np.ndarray] | None = None,
              snr_spread_db: float = 3.0) -> dict[str, float]:
    """One round of local training: ``steps`` batches of ``images`` at SNRs uniform in
    ``snr_db ± snr_spread_db``, under AGP ``masks`` (``None``: dense), the proximal anchor at
    the weights received.

    Output
    ------
    dict: ``loss_first``, ``loss_last`` (first and last step), ``images`` processed.
    """
    if steps <= 0:
        return {"loss_first": float("nan"), "loss_last": float("nan"), "images": 0}
    trainer.set_masks(masks)
    trainer.anchor()
    return trainer.fit(images, steps=steps, batch_size=min(batch_size, len(images)),
                       snr_db_range=(snr_db - snr_spread_db, snr_db + snr_spread_db), seed=seed)


class Evaluator:
    """Compiled evaluation of one codec over one link, reused every round: the one compiled
    evaluation of :func:`psfl.semantic.train.evaluate_codec` (its trace is cached per codec and
    link).

    Input (``__call__``)
    -----
    images : float32 [N, H, W, 3] in [0, 1]; snr_db : float

    Output
    ------
    dict: mean ``psnr`` [dB] and ``ssim`` over the images.
    """

    def __init__(self, codec: SemanticCodec, link: LinkFn, batch_size: int = 128):
        self.codec, self.link, self.batch_size = codec, link, batch_size

    def __call__(self, images: np.ndarray, snr_db: float) -> dict[str, float]:
        row = evaluate_codec(self.codec, self.link, images, [snr_db], batch_size=self.batch_size)
        return {"psnr": row[0]["psnr"], "ssim": row[0]["ssim"]}
