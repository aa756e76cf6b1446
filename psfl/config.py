"""Typed, validated configuration.

Configuration is TOML. Each section maps onto a frozen dataclass whose fields are declared with
:func:`option`, which records the allowed range or choices and a one-line help text. Loading
rejects unknown keys, wrong types and out-of-range values with a :class:`ConfigError` that names
the key (``phy.snr_db_min``) and states what is allowed. ``--set section.key=value`` overrides
are parsed as TOML values (``--set phy.channel="tdl-c"`` or ``--set phy.channel=tdl-c``).

What the user chose
    :func:`load_config` records every ``section.key`` the TOML file or a ``--set`` gave, whatever
    its value (one equal to the default included), in :attr:`Config.chosen`. A command's own
    settings (the demo's budget, ``--quick``) go through :meth:`Config.unless_chosen`, which
    leaves those keys alone: nothing the user asked for is silently changed.
    :meth:`Config.replace` keeps ``chosen`` as it is (a key it changes is not thereby chosen: the
    code, not the user, changed it).

A part of the package (``psfl.phy``, ``psfl.semantic``, …) declares its own section dataclass with
:func:`option` and registers it with :func:`register_section`; :class:`Config` then carries it.

Self-documenting
    :func:`describe` turns a section's fields into :class:`KeyInfo` rows (default, unit, allowed
    values, help): ``psfl config --list`` prints them and :func:`register_section` appends them
    to the section's docstring, so ``help(PhyConfig)`` shows every key. A key's unit is the
    ``unit=`` of its :func:`option`, else the first ``[...]`` of its help (``"… [dB]."``).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import textwrap
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from psfl.errors import PsflError

__all__ = [
    "Config",
    "ConfigError",
    "DataConfig",
    "KeyInfo",
    "RunConfig",
    "Section",
    "describe",
    "load_config",
    "option",
    "register_section",
    "section_from_dict",
]


class ConfigError(PsflError, ValueError):
    """A configuration value is unknown, of the wrong type or out of range."""


def option(
    default: Any,
    *,
    help: str,  # noqa: A002 - mirrors argparse
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    choices: Iterable[Any] | None = None,
    check: Callable[[Any], str | None] | None = None,
    unit: str | None = None,
) -> Any:
    """Declare a configuration field.

    Parameters
    ----------
    default
        Default value (immutable; tuples for sequences).
    help
        One line for ``psfl … --help`` and error messages.
    lo, hi
        Inclusive numeric bounds (``lo`` exclusive when ``lo_open``).
    choices
        Allowed values, or a registry (:class:`psfl.registry.Registry`), read whenever a value
        is checked or listed, so that an entry registered later is allowed too.
    check
        Extra validator returning an error text or ``None``.
    unit
        Unit shown by ``psfl config --list``; by default the first ``[...]`` of ``help``.
    """
    meta = {
        "unit": unit,
        "help": help,
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "choices": (choices if choices is None or hasattr(choices, "names")
                    else tuple(choices)),
        "check": check,
    }
    return dataclasses.field(default=default, metadata=meta)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        return f"list of {_type_name(args[0])}" if args else "list"
    if tp is type(None):
        return "none"
    return getattr(tp, "__name__", str(tp))


def _as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _as_int(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ConfigError(f"{key}: expected an integer, got {value!r}")


def _as_float(value: Any, key: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    return value


def _as_str(value: Any, key: str) -> str:
    if isinstance(value, str):
        return value
    raise ConfigError(f"{key}: expected a string, got {value!r}")


#: Coercion of a scalar annotation: (value, key) → value, or :class:`ConfigError`.
_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    bool: _as_bool, int: _as_int, float: _as_float, str: _as_str, Any: lambda value, key: value,
}


def _coerce_union(value: Any, tp: Any, key: str) -> Any:
    """The first member of the union ``tp`` that accepts ``value``."""
    args = typing.get_args(tp)
    if value is None and type(None) in args:
        return None
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _coerce(value, arg, key)
        except ConfigError:
            continue
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")


def _coerce_tuple(value: Any, tp: Any, key: str) -> tuple:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    (elem,) = typing.get_args(tp)[:1] or (Any,)
    return tuple(_coerce(v, elem, f"{key}[{i}]") for i, v in enumerate(value))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Return ``value`` converted to ``tp`` or raise :class:`ConfigError`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, tp, key)
    if origin is tuple:
        return _coerce_tuple(value, tp, key)
    if tp in _SCALARS:
        return _SCALARS[tp](value, key)
    raise ConfigError(f"{key}: unsupported type {tp!r}")  # pragma: no cover - programming error


def _check_range(meta: Mapping[str, Any], v: Any, key: str) -> None:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(f"{key}: expected a finite number, got {v!r}")
    lo, hi = meta.get("lo"), meta.get("hi")
    too_low = lo is not None and (v <= lo if meta.get("lo_open") else v < lo)
    too_high = hi is not None and v > hi
    if too_low or too_high:
        left = "(" if meta.get("lo_open") else "["
        rng = f"{left}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise ConfigError(f"{key}: {v!r} is out of range; allowed {rng}")


def _check_field(f: dataclasses.Field, value: Any, key: str) -> None:
    """Choices, finiteness, range and ``check`` of one field declared with :func:`option`."""
    meta = f.metadata
    choices = meta.get("choices")
    if hasattr(choices, "names"):  # a registry: its message names every entry and the setting
        if value not in choices:
            raise ConfigError(f"{key}: {choices.unknown(value)}")
    elif choices is not None and value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {allowed}")
    for v in value if isinstance(value, tuple) else (value,):
        _check_range(meta, v, key)
    check = meta.get("check")
    if check is not None:
        msg = check(value)
        if msg:
            raise ConfigError(f"{key}: {msg}")


class Section:
    """Base of every section dataclass: a section is checked whenever it is constructed.

    Construction (from a TOML file, ``--set``, code or :func:`dataclasses.replace`) checks every
    field against its :func:`option` (choices, finite numbers, range, ``check``), then calls
    :meth:`validate` for the rules between fields. Errors are :class:`ConfigError` naming the
    key, ``section.field``, with the section's name from :func:`register_section`.
    """

    #: The section's name in the TOML file (``[phy]``); set by :func:`register_section`.
    section_name: typing.ClassVar[str] = ""

    def __post_init__(self) -> None:
        name = self.section_name or type(self).__name__
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            _check_field(f, getattr(self, f.name), f"{name}.{f.name}")
        try:
            self.validate()
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(f"[{name}]: {exc}") from exc

    def validate(self) -> None:
        """Rules between fields (none here); raises :class:`ConfigError` or ``ValueError``."""


def section_from_dict(cls: type, data: Mapping[str, Any] | None, name: str) -> Any:
    """Build the section ``cls`` from ``data``, validating every key.

    Unknown keys list the valid ones; types are checked against the annotations (ints are
    accepted where floats are expected); missing keys take their defaults; ranges, choices and
    the rules between fields are checked by :class:`Section` on construction.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        valid = ", ".join(sorted(fields))
        raise ConfigError(f"{name}.{unknown[0]}: unknown key; valid keys in [{name}] are: {valid}")
    kwargs = {k: _coerce(v, hints[k], f"{name}.{k}") for k, v in data.items()}
    return cls(**kwargs)  # a Section checks itself (register_section admits no other)


# --------------------------------------------------------------------------------------------
# Sections owned by the top level (run bookkeeping and data). Parts register theirs.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RunConfig(Section):
    """Run bookkeeping: the seed and the output directory."""

    seed: int = option(0, help="Seed for numpy, TensorFlow and data order; one seed, one run.", lo=0)
    out: str = option("", help="Output directory; empty means runs/<command>-<timestamp>/.")


#: Most MUs a run may have: each is a Flower node with its own copy of the data set.
MAX_MUS = 10_000
#: Overlapping patches multiply the patches of a data set by (patch_size / stride)²; a stride of
#: at least patch_size / ``MIN_STRIDE_DIVISOR`` caps that at 16x the non-overlapping tiling.
MIN_STRIDE_DIVISOR = 4


def _check_path_needed(cfg: DataConfig) -> None:
    if cfg.source in ("cifar10", "folder") and not cfg.path:
        raise ConfigError(
            f"data.path: source {cfg.source!r} needs a path; set --set data.path=/path/to/data"
        )


def _check_stride(cfg: DataConfig) -> None:
    least = -(-cfg.patch_size // MIN_STRIDE_DIVISOR)
    if 0 < cfg.stride < least:
        raise ConfigError(
            f"data.stride: {cfg.stride} with data.patch_size = {cfg.patch_size} would cut "
            f"{(cfg.patch_size / cfg.stride) ** 2:.0f}x as many patches as non-overlapping tiles, "
            f"all held in memory; use 0 (= patch_size) or at least {least}"
        )


@dataclasses.dataclass(frozen=True)
class DataConfig(Section):
    """The images (source, patches, train/test split) and their split across the MUs."""

    source: str = option(
        "skimage",
        help="Image source: embedded skimage photos, a local CIFAR-10 copy, or a folder of images.",
        choices=("skimage", "cifar10", "folder"),
    )
    path: str = option("", help="Path of the CIFAR-10 python batches or the image folder.")
    patch_size: int = option(32, help="Side of the square RGB patches in pixels.", lo=8, hi=512)
    stride: int = option(
        0,
        help="Stride between patches cut from large images; 0 means patch_size, else at least "
             "patch_size / 4.",
        lo=0,
    )
    folder_mode: str = option(
        "tiles",
        help="For folders: cut every image into tiles, or take one centre crop per image.",
        choices=("tiles", "center"),
    )
    test_fraction: float = option(
        0.2, help="Fraction of source regions held back for testing.", lo=0.0, hi=0.9, lo_open=True
    )
    max_train: int = option(0, help="Cap on training images; 0 means all.", lo=0)
    max_test: int = option(0, help="Cap on test images; 0 means all.", lo=0)
    num_mus: int = option(
        5,
        help="Number of mobile users the training set is split across (each is a Flower node "
             f"holding its own copy of the data; at most {MAX_MUS}).",
        lo=1,
        hi=MAX_MUS,
    )
    partition: str = option(
        "dirichlet",
        help="How training images are split across MUs.",
        choices=("iid", "dirichlet"),
    )
    alpha: float = option(
        0.5,
        help="Dirichlet concentration over sources/classes; small = skewed MUs.",
        lo=0.0,
        lo_open=True,
    )

    def validate(self) -> None:
        _check_path_needed(self)
        _check_stride(self)


#: Registry of section name → dataclass. Parts add theirs with :func:`register_section`.
SECTIONS: dict[str, type] = {}


def register_section(name: str, cls: type) -> type:
    """Register ``cls``, a :class:`Section` dataclass, as ``[name]``; returns ``cls``."""
    if not (dataclasses.is_dataclass(cls) and issubclass(cls, Section)):
        raise TypeError(f"{cls!r} is not a dataclass derived from psfl.config.Section")
    cls.section_name = name
    cls.__doc__ = _section_doc(cls)
    SECTIONS[name] = cls
    return cls


# --------------------------------------------------------------------------------------------
# Describing a section: psfl config --list and the sections' docstrings
# --------------------------------------------------------------------------------------------

#: The unit in a help text: its first ``[...]`` (``"Carrier frequency [Hz]."`` → ``Hz``).
_UNIT_IN_HELP = re.compile(r"\[([^\[\]]+)\]")


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    """One key of a section as ``psfl config --list`` and the section docstrings show it."""

    name: str
    type: str
    default: str  # as written in TOML
    unit: str  # "" when the key has none
    allowed: str  # range or choices; "" when any value of the type (or the help says)
    help: str


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if v is None:
        return '""'
    return repr(v)


def _literal(v: Any) -> str:
    """``v`` as written in a TOML file, floats in at most six significant digits."""
    if isinstance(v, float):
        text = f"{v:.6g}"
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    return _toml_value(v)


def _allowed(meta: Mapping[str, Any], is_list: bool) -> str:
    """``[lo, hi]`` (``(`` when ``lo`` is open, infinite ends open) or ``a | b | c``."""
    if meta.get("choices") is not None:
        choices = meta["choices"]
        return " | ".join(_literal(c) for c in (choices.names() if hasattr(choices, "names")
                                                else choices))
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    left = "(-inf" if lo is None else ("(" if meta.get("lo_open") else "[") + _literal(lo)
    right = "inf)" if hi is None else _literal(hi) + "]"
    return ("each in " if is_list else "") + f"{left}, {right}"


def _unit(meta: Mapping[str, Any]) -> str:
    if meta.get("unit") is not None:
        return meta["unit"]
    found = _UNIT_IN_HELP.search(meta.get("help", ""))
    return found.group(1) if found else ""


def describe(cls: type) -> list[KeyInfo]:
    """Every key of the section dataclass ``cls``, in declaration order."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        is_list = typing.get_origin(hints[f.name]) is tuple
        rows.append(KeyInfo(name=f.name, type=_type_name(hints[f.name]),
                            default=_literal(f.default), unit=_unit(meta),
                            allowed=_allowed(meta, is_list), help=meta.get("help", "")))
    return rows


def _section_doc(cls: type) -> str:
    """``cls``'s own docstring (or a line naming the section) and a **Keys** list of its fields."""
    own = cls.__dict__.get("_own_doc")
    if own is None:
        own = cls.__doc__ or ""
        if own.startswith(f"{cls.__name__}("):  # the signature dataclasses writes in its place
            own = ""
        cls._own_doc = own  # type: ignore[attr-defined]  # register_section may run twice
    head = inspect.cleandoc(own) or f"The ``[{cls.section_name}]`` section."
    lines = [head, "", "Keys", "----"]
    for row in describe(cls):
        facts = [row.type, f"default {row.default}"]
        facts += [f"unit {row.unit}"] if row.unit else []
        facts += [f"allowed {row.allowed}"] if row.allowed else []
        lines.append(f"{row.name} : {', '.join(facts)}")
        lines += textwrap.wrap(row.help, 96, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines) + "\n"


register_section("run", RunConfig)
register_section("data", DataConfig)


def _import_parts() -> None:
    """Import parts so they register their sections (lazy: keeps ``psfl --help`` fast)."""
    import importlib

    for mod in ("psfl.phy.config", "psfl.semantic.config", "psfl.federation.config",
                "psfl.hil.config"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


class Config:
    """All sections of a run. Attribute access by section name: ``cfg.phy.channel``.

    Parameters
    ----------
    sections : mapping of section name → section dataclass
    chosen : iterable of ``"section.key"``
        The keys the user gave (see the module docstring); empty for a configuration built in
        code.

    Attributes
    ----------
    chosen : frozenset of str
        ``"section.key"`` of every value the user's TOML file or ``--set`` gave.
    """

    def __init__(self, sections: Mapping[str, Any], chosen: Iterable[str] = ()):
        self._sections = dict(sections)
        self.chosen: frozenset[str] = frozenset(chosen)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_sections"][name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, obj in self._sections.items():
            out[name] = {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(obj).items()
            }
        return out

    def replace(self, section: str, **changes: Any) -> Config:
        """A copy with ``changes`` applied to one section (validated again); :attr:`chosen` is
        kept and the changed keys are not added to it."""
        data = self.to_dict()
        data[section].update(changes)
        return Config.from_dict(data, chosen=self.chosen)

    def unless_chosen(self, settings: Mapping[str, Mapping[str, Any]]) -> Config:
        """A copy with a command's own ``settings`` applied wherever the user did not choose.

        Parameters
        ----------
        settings : ``{section: {key: value}}``
            The command's values (a budget, ``--quick``); a key in :attr:`chosen` keeps the
            user's value, whatever it is. All sections are validated once, together.
        """
        data = self.to_dict()
        for section, values in settings.items():
            mine = {k: v for k, v in values.items() if f"{section}.{k}" not in self.chosen}
            data.setdefault(section, {}).update(mine)
        return Config.from_dict(data, chosen=self.chosen)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], chosen: Iterable[str] = ()) -> Config:
        """Build and validate every registered section from ``{section: {key: value}}`` (missing
        keys take their defaults); ``chosen`` becomes :attr:`chosen` as given."""
        _import_parts()
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            valid = ", ".join(sorted(SECTIONS))
            raise ConfigError(f"[{unknown[0]}]: unknown section; valid sections are: {valid}")
        for name, sec in data.items():
            if not isinstance(sec, Mapping):
                raise ConfigError(f"[{name}]: expected a table of key = value pairs")
        return cls({n: section_from_dict(c, data.get(n), n) for n, c in SECTIONS.items()},
                   chosen)

    def to_toml(self) -> str:
        lines: list[str] = []
        for name, sec in self.to_dict().items():
            lines.append(f"[{name}]")
            for k, v in sec.items():
                lines.append(f"{k} = {_toml_value(v)}")
            lines.append("")
        return "\n".join(lines)


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value``; the value is read as TOML, falling back to a bare string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set phy.channel=awgn")
    dotted, raw = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set phy.channel=awgn")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts[0], parts[1], value


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Read a TOML file (or defaults when ``path`` is None) and apply ``--set`` overrides.

    Every key the file or an override gives is recorded in :attr:`Config.chosen`.
    """
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} not found; pass an existing TOML file "
                              "(see configs/ for examples)")
        try:
            data = tomllib.loads(p.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from exc
    for text in overrides:
        section, key, value = parse_override(text)
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"[{section}]: expected a table of key = value pairs")
        data[section][key] = value
    # A non-table section is reported by from_dict; its keys cannot be chosen.
    chosen = {f"{name}.{key}" for name, sec in data.items() if isinstance(sec, dict) for key in sec}
    return Config.from_dict(data, chosen)
