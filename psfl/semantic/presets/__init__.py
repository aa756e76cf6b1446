"""Codec presets: one module per preset, registered in :data:`CODECS` (see :mod:`.registry`).

A new preset is one new module here (copy ``gsc_m.py``: its name, family, Keras class and
architecture arguments) and its tests; ``semantic.model``'s choices, ``--model``,
:func:`build_codec` and the zoo read the registry. Importing this package loads no
TensorFlow: the Keras class is imported when a codec is built.
"""

from __future__ import annotations

from psfl.semantic.presets.registry import CODECS, Preset, build_codec

__all__ = ["CODECS", "Preset", "build_codec"]
