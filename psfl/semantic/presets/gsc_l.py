"""Preset ``gsc-l``: the large ViT/MAE codec (:class:`psfl.semantic.gsc.GSC`), a mentor."""

from psfl.semantic.presets.registry import CODECS, Preset


@CODECS.register("gsc-l", order=40)
class GscL(Preset):
    family = "gsc"
    keras_class = "psfl.semantic.gsc:GSC"
    architecture = {"dim": 128, "depth": 6, "decoder_depth": 3, "heads": 8, "mlp_ratio": 4}
    about = "ViT/MAE, large"
