"""Semantic codecs: the GSC family (ViT/MAE, sizes s/m/l) and the CSC (DeepJSCC CNN).

* :func:`build_codec` / :func:`load_codec` — presets by name (:data:`MODELS`, the registry of
  :mod:`psfl.semantic.presets`, one module per preset), checked loading.
* :class:`GSC`, :class:`CSC` — ``encode(images, snr_db) -> z`` (complex64 [B, k], unit mean power
  per image) and ``decode(y, no_eff) -> images``; bandwidth ratio ``k/n`` with ``n = H·W·3`` real
  values and ``k`` complex channel uses (DeepJSCC convention; 1/6 → k = 512 for 32×32).
* :func:`train_codec`, :func:`evaluate_codec`, :func:`transmit` — end to end through
  :class:`psfl.phy.UplinkLink`; :class:`Trainer`, the one training step every use shares.
* :func:`load_pretrained` (or ``load_codec("pretrained:NAME")``) — the shipped zoo
  (:mod:`psfl.semantic.zoo`), made by ``psfl pretrain`` (:mod:`psfl.semantic.pretrain`).
* :func:`cost_table` — params, FLOPs and activation memory per image (read by mentor selection).
* :mod:`psfl.semantic.metrics` — PSNR, SSIM, MS-SSIM.
* :class:`SemanticConfig` — the ``[semantic]`` configuration section.

Names are imported lazily so that reading the configuration does not load TensorFlow.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "SemanticConfig": "psfl.semantic.config",
    "MODEL_NAMES": "psfl.semantic.config",
    "MODELS": "psfl.semantic.models",
    "build_codec": "psfl.semantic.presets.registry",
    "load_codec": "psfl.semantic.models",
    "SemanticCodec": "psfl.semantic.codec",
    "GSC": "psfl.semantic.gsc",
    "CSC": "psfl.semantic.csc",
    "cost_table": "psfl.semantic.models",
    "k_from_ratio": "psfl.semantic.power",
    "normalize_power": "psfl.semantic.power",
    "train_codec": "psfl.semantic.train",
    "evaluate_codec": "psfl.semantic.train",
    "transmit": "psfl.semantic.train",
    "TrainResult": "psfl.semantic.train",
    "Trainer": "psfl.semantic.train",
    "load_pretrained": "psfl.semantic.zoo",
    "psnr": "psfl.semantic.metrics",
    "ssim": "psfl.semantic.metrics",
    "ms_ssim": "psfl.semantic.metrics",
    "image_metrics": "psfl.semantic.metrics",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
