"""Preset ``gsc-m``: the medium ViT/MAE codec (:class:`psfl.semantic.gsc.GSC`), a mentor."""

from psfl.semantic.presets.registry import CODECS, Preset


@CODECS.register("gsc-m", order=30)
class GscM(Preset):
    family = "gsc"
    keras_class = "psfl.semantic.gsc:GSC"
    architecture = {"dim": 96, "depth": 4, "decoder_depth": 2, "heads": 4, "mlp_ratio": 4}
    about = "ViT/MAE, medium"
