"""Named extension points: the one mechanism behind every registry of psfl.

Each concept that users extend — channel, radio, strategy, codec preset, source coder — has a
small ``registry.py`` of its own that creates one :class:`Registry` and the base class its
entries derive from. An entry is one module in the concept's package (the registry's
``package``) that registers a class under its configuration name with a decorator::

    @CHANNELS.register("rayleigh")
    class Rayleigh(ChannelModel):
        has_cir = False          # capabilities are class attributes, declared by the base
        ...

The registry imports every module of its package the first time it is asked for a name
(discovery), so a new file is all a new entry needs: configuration choices, ``psfl config
--list``, the factories and the error messages read the registry and cannot drift from it.
Entry modules keep heavy imports (TensorFlow, Sionna, Flower, libiio) inside their methods, so
that listing names and capabilities stays as light as reading a configuration (a test checks
that no registry listing imports TensorFlow).

Order: entries are listed by their ``order`` (default 100), then by registration; an entry
module may register several names (``tdl-a`` … ``tdl-e`` share one class).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["Entry", "Registry"]

T = TypeVar("T", bound=type)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered name: its class and the keyword arguments it is built with."""

    name: str
    cls: type
    params: dict[str, Any]
    order: int
    index: int

    def capability(self, key: str) -> Any:
        """A class attribute of the entry's class (its declared capability)."""
        return getattr(self.cls, key)

    def build(self, *args: Any, **kwargs: Any) -> Any:
        """An instance: ``cls(*args, **params, **kwargs)``."""
        return self.cls(*args, **{**self.params, **kwargs})


class Registry:
    """Names of one concept, each bound to a class that declares its capabilities.

    Parameters
    ----------
    concept : str
        What an entry is, for messages ("channel", "radio", …).
    package : str
        The package whose modules are the entries (imported on first use).
    setting : str
        Where a user chooses one (e.g. ``"phy.channel"``), named in the error message.
    base : type or None
        Every registered class must derive from it.
    """

    def __init__(self, concept: str, package: str, *, setting: str, base: type | None = None):
        self.concept, self.package, self.setting, self.base = concept, package, setting, base
        self._entries: dict[str, Entry] = {}
        self._discovered = False
        self._discovering = False

    # -- registration ---------------------------------------------------------------------
    def register(self, name: str, *, order: int = 100, **params: Any) -> Callable[[T], T]:
        """Class decorator: register the class under ``name`` (built with ``params``)."""

        def decorate(cls: T) -> T:
            if self.base is not None and not issubclass(cls, self.base):
                raise TypeError(f"{cls.__name__} must derive from {self.base.__name__} to be "
                                f"registered as a {self.concept}")
            if name in self._entries and self._entries[name].cls is not cls:
                raise ValueError(f"{self.concept} {name!r} is registered twice "
                                 f"({self._entries[name].cls.__module__} and {cls.__module__})")
            self._entries[name] = Entry(name, cls, dict(params), order, len(self._entries))
            return cls

        return decorate

    def _discover(self) -> None:
        if self._discovered or self._discovering:
            return
        self._discovering = True
        try:
            pkg = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(pkg.__path__):
                if not info.name.startswith("_") and info.name != "registry":
                    importlib.import_module(f"{self.package}.{info.name}")
            self._discovered = True
        finally:
            self._discovering = False

    # -- lookup ---------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        self._discover()
        return sorted(self._entries.values(), key=lambda e: (e.order, e.index))

    def names(self, **where: Any) -> tuple[str, ...]:
        """Registered names in order; ``where`` keeps those whose capabilities equal the values
        given (e.g. ``names(has_cir=True)``)."""
        return tuple(e.name for e in self.entries()
                     if all(getattr(e.cls, k) == v for k, v in where.items()))

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def unknown(self, name: object) -> str:
        """The error text for a name that is not registered."""
        return (f"unknown {self.concept} {name!r}; choose one of {', '.join(self.names())} "
                f"({self.setting})")

    def get(self, name: str) -> Entry:
        """The entry of ``name``; an unknown name raises :class:`ValueError` listing the
        choices."""
        self._discover()
        if name not in self._entries:
            raise ValueError(self.unknown(name))
        return self._entries[name]

    def cls(self, name: str) -> type:
        return self.get(name).cls

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """An instance of ``name``'s class (see :meth:`Entry.build`)."""
        return self.get(name).build(*args, **kwargs)

    def capability(self, name: str, key: str) -> Any:
        return self.get(name).capability(key)

    def table(self, *keys: str) -> list[dict[str, Any]]:
        """One row per entry: its name, module and the capabilities ``keys``."""
        return [{"name": e.name, "module": e.cls.__module__,
                 **{k: getattr(e.cls, k) for k in keys}} for e in self.entries()]
