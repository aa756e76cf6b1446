"""``psfl config --list [SECTION]`` — the configuration reference: every key, one table a section.

Each row is a key with its default (as written in TOML), unit and allowed values (range or
choices), its help beneath it, from :func:`psfl.config.describe` — the same rows the sections' docstrings show.
A command that only prints: it provides :func:`show` instead of ``run``, so the CLI creates no
run directory and starts no TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap

from psfl.config import SECTIONS, ConfigError, KeyInfo, _import_parts, describe

HELP = "Print the configuration reference: every key with its default, unit, range and help."

#: Column headings, in order; each key's help follows its row, indented.
COLUMNS = ("key", "default", "unit", "allowed")
#: Widest a column other than key may be before its text wraps.
MAX_WIDTH = {"default": 16, "unit": 12, "allowed": 28}
#: Fewest characters a line of help gets, however narrow the terminal.
MIN_HELP = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", nargs="?", const="", metavar="SECTION", dest="list_section",
                        help="list every key (of SECTION only, when given)")


def _cells(row: KeyInfo) -> tuple[str, ...]:
    return row.name, row.default, row.unit or "-", row.allowed or "-"


def _lines(cells: tuple[str, ...], widths: list[int]) -> list[str]:
    """One table row, its cells wrapped to their column's width."""
    wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [""]
               for c, w in zip(cells, widths, strict=True)]
    return [("  " + "  ".join((w[i] if i < len(w) else "").ljust(n)
                              for w, n in zip(wrapped, widths, strict=True))).rstrip()
            for i in range(max(len(w) for w in wrapped))]


def table(name: str, width: int = 100) -> str:
    """The reference of section ``name``: a heading line, then a row a key (name, default, unit,
    allowed values) with its help beneath, wrapped to ``width`` characters."""
    cls = SECTIONS[name]
    rows = describe(cls)
    widths = [min(max(len(c[i]) for c in [COLUMNS, *map(_cells, rows)]), MAX_WIDTH.get(col, 99))
              for i, col in enumerate(COLUMNS)]
    own = getattr(cls, "_own_doc", "")  # the docstring before register_section added the keys
    summary = " ".join(own.split("\n\n")[0].split()).split(". ")[0].rstrip(".")
    out = [f"[{name}]  {summary}." if summary else f"[{name}]", *_lines(COLUMNS, widths)]
    for row in rows:
        out += _lines(_cells(row), widths)
        out += textwrap.wrap(row.help, max(MIN_HELP, width - 6), initial_indent=" " * 6,
                             subsequent_indent=" " * 6)
    return "\n".join(out)


def reference(section: str = "", width: int = 100) -> str:
    """The tables of every section, or of ``section`` alone; an unknown section is a
    :class:`~psfl.config.ConfigError` naming the valid ones."""
    _import_parts()
    if section and section not in SECTIONS:
        raise ConfigError(f"unknown section {section!r}; valid sections are: "
                          f"{', '.join(SECTIONS)}")
    names = [section] if section else list(SECTIONS)
    return "\n\n".join(table(n, width) for n in names)


def show(args: argparse.Namespace) -> int:
    """Print the reference asked for; returns the exit code."""
    if args.list_section is None:
        raise ConfigError("nothing to do; use psfl config --list [SECTION]")
    text = reference(args.list_section, shutil.get_terminal_size((100, 24)).columns)
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `psfl config --list | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
