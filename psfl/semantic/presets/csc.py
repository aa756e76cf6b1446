"""Preset ``csc``: the DeepJSCC-style CNN (:class:`psfl.semantic.csc.CSC`), the shared student."""

from psfl.semantic.presets.registry import CODECS, Preset


@CODECS.register("csc", order=10)
class Csc(Preset):
    family = "csc"
    keras_class = "psfl.semantic.csc:CSC"
    architecture = {"filters": (16, 32)}
    student = True
    about = "DeepJSCC CNN, the shared student"
