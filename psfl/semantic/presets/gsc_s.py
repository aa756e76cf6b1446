"""Preset ``gsc-s``: the small ViT/MAE codec (:class:`psfl.semantic.gsc.GSC`), a mentor."""

from psfl.semantic.presets.registry import CODECS, Preset


@CODECS.register("gsc-s", order=20)
class GscS(Preset):
    family = "gsc"
    keras_class = "psfl.semantic.gsc:GSC"
    architecture = {"dim": 64, "depth": 2, "decoder_depth": 1, "heads": 4, "mlp_ratio": 2}
    about = "ViT/MAE, small"
