"""The codec-preset registry: a preset is a name bound to a Keras codec class and its
architecture arguments.

A preset is one module of this package with a light class (no TensorFlow or Keras at import:
the configuration reads the names)::

    @CODECS.register("gsc-m", order=30)
    class GscM(Preset):
        family = "gsc"
        keras_class = "psfl.semantic.gsc:GSC"
        architecture = {"dim": 96, "depth": 4, "decoder_depth": 2, "heads": 4, "mlp_ratio": 4}
        about = "ViT/MAE mentor, medium"

Capabilities (class attributes of :class:`Preset`): :attr:`~Preset.family` (``"csc"`` or
``"gsc"``; mentor selection takes the GSC family), :attr:`~Preset.keras_class` (imported only
when a codec is built), :attr:`~Preset.architecture` (the keyword arguments of that class —
shipped weights in ``psfl/semantic/zoo/`` fit them exactly, so a shipped preset's arguments
never change), :attr:`~Preset.student` (the shared student of the federation).
:func:`build_codec` builds any registered preset.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from psfl.registry import Registry

__all__ = ["CODECS", "Preset", "build_codec"]


class Preset:
    """A codec preset: which Keras class, with which architecture arguments."""

    #: Architecture family, ``"csc"`` (CNN) or ``"gsc"`` (ViT/MAE); also the Keras class's.
    family: ClassVar[str]
    #: ``"module:Class"`` of the :class:`~psfl.semantic.codec.SemanticCodec` subclass.
    keras_class: ClassVar[str]
    #: Keyword arguments of that class (besides ``image_size``, ``k`` and ``arch``).
    architecture: ClassVar[dict[str, Any]]
    #: The shared student every mobile user trains (the CSC).
    student: ClassVar[bool] = False
    #: A few words for help texts.
    about: ClassVar[str] = ""

    @classmethod
    def codec_class(cls) -> type:
        """The Keras class (imports it, and with it TensorFlow/Keras)."""
        module, _, name = cls.keras_class.partition(":")
        return getattr(importlib.import_module(module), name)


CODECS = Registry("codec", "psfl.semantic.presets", setting="semantic.model (--model)",
                  base=Preset)
"""Codec presets by name (one module each), in the order csc, gsc-s, gsc-m, gsc-l."""


def build_codec(name: str, image_size: int | tuple[int, int] = 32, k: int | None = None,
                k_over_n: float = 1 / 6, **overrides: Any) -> Any:
    """Build (and create the weights of) the codec preset ``name``.

    Parameters
    ----------
    name : str
        One of :data:`CODECS` (``"csc"``, ``"gsc-s"``, ``"gsc-m"``, ``"gsc-l"``).
    image_size : int or (int, int)
        Image height and width.
    k : int or None
        Complex channel symbols per image; ``None`` means ``round(k_over_n · H·W·3)``.
    k_over_n : float
        Bandwidth ratio (``n`` real source values, ``k`` complex channel uses).
    overrides
        Architecture arguments that replace the preset's (e.g. ``dim=32`` for a tiny test model).

    Output
    ------
    :class:`~psfl.semantic.codec.SemanticCodec`, built.
    """
    preset = CODECS.cls(name)
    if k is None:
        from psfl.semantic.power import k_from_ratio

        k = k_from_ratio(image_size, k_over_n)
    model = preset.codec_class()(image_size=image_size, k=k, arch=name,
                                 **{**preset.architecture, **overrides})
    model.build_now()
    return model
