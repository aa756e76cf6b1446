"""Lazy package faces: a package names what it offers and the module that defines each name,
and a name is imported on first use, so importing a package (or reading the configuration)
loads no TensorFlow, Sionna, Keras or pyadi-iio (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_face(package: str, exports: Mapping[str, str], namespace: Mapping[str, Any]
              ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose ``exports`` map each offered
    name to the module defining it; ``namespace`` is the package's ``globals()``."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
