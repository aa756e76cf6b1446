"""``psfl config --list [SECTION]``: every key of every section, nothing written, no TensorFlow;
the section docstrings list the same keys."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time

import pytest

from psfl.config import SECTIONS, _import_parts, describe

_import_parts()

HEAVY = ("tensorflow", "sionna", "keras", "flwr")

#: A key's row: two spaces, the name, two or more spaces (the default follows).
_ROW = re.compile(r"^  ([a-z_0-9]+)  +\S", re.MULTILINE)


def _listed(text: str) -> dict[str, list[str]]:
    """``{section: [keys in order]}`` read back from the printed tables."""
    out: dict[str, list[str]] = {}
    for block in text.strip().split("\n\n"):
        name = re.match(r"^\[([a-z]+)\]", block).group(1)
        out[name] = [k for k in _ROW.findall(block) if k != "key"]
    return out


def _psfl(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psfl.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_list_shows_every_key_of_every_section(tmp_path):
    out = _psfl("config", "--list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    listed = _listed(out.stdout)
    assert set(listed) == set(SECTIONS)
    for name, cls in SECTIONS.items():
        assert listed[name] == [f.name for f in dataclasses.fields(cls)], name
    # a run directory, a log or anything else: nothing is written
    assert list(tmp_path.iterdir()) == []


def test_list_one_section_only(tmp_path):
    out = _psfl("config", "--list", "phy", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _listed(out.stdout) == {"phy": [f.name for f in dataclasses.fields(SECTIONS["phy"])]}
    # default, unit and range of one key, and its help beneath
    row = re.search(r"^  snr_db_min +(\S+) +(\S+) +(.+)\n +(.+)$", out.stdout, re.MULTILINE)
    assert row.groups()[:3] == ("0.0", "dB", "[-30.0, 60.0]")
    assert row.group(4).startswith("Lower end of the training/evaluation SNR range")
    assert list(tmp_path.iterdir()) == []


def test_unknown_section_is_one_line_exit_2(tmp_path):
    out = _psfl("config", "--list", "bogus", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("psfl config: error: unknown section 'bogus'")
    assert all(name in lines[0] for name in SECTIONS)
    assert list(tmp_path.iterdir()) == []


_PROBE = """
import io, json, sys, time, contextlib
t0 = time.perf_counter()
from psfl.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    rc = main(["config", "--list"])
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t0, "chars": len(buf.getvalue()),
                  "loaded": sorted(m for m in %r if m in sys.modules)}))
"""


def test_list_loads_no_tensorflow_and_is_fast(tmp_path):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _PROBE % (HEAVY,)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120, check=True)
    wall = time.perf_counter() - t0
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["rc"] == 0 and got["chars"] > 1000
    assert got["loaded"] == []
    # about 0.5 s on an idle machine with interpreter start-up; TensorFlow alone takes several
    assert got["seconds"] < 2.0 and wall < 4.0, (got, wall)
    assert list(tmp_path.iterdir()) == []


def test_config_without_list_is_refused(tmp_path):
    out = _psfl("config", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == "psfl config: error: nothing to do; use psfl config --list [SECTION]"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_section_docstring_lists_its_keys(name):
    cls = SECTIONS[name]
    doc = cls.__doc__
    assert "\nKeys\n----\n" in doc
    keys = doc.split("\nKeys\n----\n", 1)[1]
    for row in describe(cls):
        line = re.search(rf"^{row.name} : (.*)$", keys, re.MULTILINE)
        assert line, (name, row.name)
        assert f"default {row.default}" in line.group(1)
        if row.unit:
            assert f"unit {row.unit}" in line.group(1)
        # the help's first words follow, indented
        assert " ".join(row.help.split()[:4]) in " ".join(keys.split())


def test_phy_docstring_shows_help_units_and_ranges():
    from psfl.phy.config import PhyConfig

    doc = PhyConfig.__doc__
    assert doc.startswith("Numerology, channel, CSI and link budget")
    assert ("carrier_hz : float, default 3.5e+09, unit Hz, allowed [5e+08, 1e+11]\n"
            "    Carrier frequency [Hz].") in doc
    assert 'csi : str, default "perfect", allowed "perfect" | "ls"' in doc


def test_unit_from_help_or_option():
    from psfl.config import Section, option, register_section

    @dataclasses.dataclass(frozen=True)
    class Probe(Section):
        """A probe."""

        a: float = option(1.0, help="Time [s]; see [other].", lo=0.0, lo_open=True)
        b: int = option(3, help="Pixels, no bracket.", unit="px", hi=9)
        c: tuple[int, ...] = option((1, 2), help="Indices.", lo=0)

    try:
        register_section("probe", Probe)
        rows = {r.name: r for r in describe(Probe)}
        assert (rows["a"].unit, rows["a"].allowed) == ("s", "(0.0, inf)")
        assert (rows["b"].unit, rows["b"].allowed) == ("px", "(-inf, 9]")
        assert (rows["c"].default, rows["c"].allowed) == ("[1, 2]", "each in [0, inf)")
        register_section("probe", Probe)  # twice: the keys are listed once
        assert Probe.__doc__.count("\nKeys\n") == 1
        assert Probe.__doc__.startswith("A probe.\n")
    finally:
        SECTIONS.pop("probe", None)
