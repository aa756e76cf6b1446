"""Reading the configuration loads no TensorFlow, and every section checks itself.

Issue 14: a bad value must be refused in well under a second, so ``psfl.config``,
``load_config`` and the package faces they import may not start TensorFlow, Sionna or Keras;
every section dataclass validates on construction, through the one :class:`psfl.config.Section`
base.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import pytest

from psfl.config import SECTIONS, ConfigError, Section, load_config

HEAVY = ("tensorflow", "sionna", "keras", "flwr")

_PROBE = """
import json, sys
import psfl.config, psfl.phy, psfl.semantic, psfl.federation, psfl.hil
from psfl.config import ConfigError, load_config
cfg = load_config(None, ["phy.channel=tdl-c", "phy.csi=ls", "federation.rounds=2"])
try:
    load_config(None, ["phy.equalizer=bogus"])
    refused = None
except ConfigError as exc:
    refused = str(exc)
print(json.dumps({"loaded": sorted(m for m in %r if m in sys.modules), "refused": refused,
                  "channel": cfg.phy.channel}))
"""


def test_load_config_imports_no_tensorflow():
    out = subprocess.run([sys.executable, "-c", _PROBE % (HEAVY,)], capture_output=True,
                         text=True, check=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    assert got["channel"] == "tdl-c"
    assert got["refused"].startswith("phy.equalizer: 'bogus' is not allowed; choose one of")


def test_cli_refuses_bad_value_before_tensorflow(tmp_path):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "psfl.cli", "train", "--out", str(tmp_path / "r"),
                          "--set", "phy.equalizer=bogus"], capture_output=True, text=True,
                         timeout=120)
    seconds = time.perf_counter() - t0
    assert out.returncode == 2
    assert "psfl train: error: phy.equalizer: 'bogus' is not allowed" in out.stderr
    # Well under a second on an idle machine; TensorFlow's import alone takes several.
    assert seconds < 4.0, seconds


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_section_is_a_section(name):
    cls = SECTIONS[name]
    assert issubclass(cls, Section) and cls.section_name == name
    cls()  # the defaults are valid


@pytest.mark.parametrize("make, fragment", [
    (lambda s: s["semantic"](model="resnet"), "semantic.model: unknown codec 'resnet'"),
    (lambda s: s["semantic"](steps=-1), "semantic.steps: -1 is out of range"),
    (lambda s: s["federation"](rounds=0), "federation.rounds: 0 is out of range"),
    (lambda s: s["federation"](aggregator="mean"), "federation.aggregator: 'mean' is not allowed"),
    (lambda s: s["federation"](min_distance_m=500.0), "[federation]: min_distance_m 500.0 exceeds"),
    (lambda s: s["data"](source="folder"), "data.path: source 'folder' needs a path"),
    (lambda s: s["data"](alpha=float("inf")), "data.alpha: expected a finite number"),
    (lambda s: s["run"](seed=-1), "run.seed: -1 is out of range"),
    (lambda s: s["phy"](equalizer="zf"), "phy.equalizer: 'zf' is not allowed"),
    (lambda s: s["hil"](train_snr_db=(30.0, 10.0)), "hil.train_snr_db [30.0, 10.0] must be"),
    (lambda s: dataclasses.replace(s["semantic"](), batch_size=0), "semantic.batch_size: 0 is"),
])
def test_construction_validates(make, fragment):
    load_config()  # registers every section
    with pytest.raises(ConfigError) as exc:
        make(SECTIONS)
    assert str(exc.value).startswith(fragment), str(exc.value)


def test_register_section_wants_a_section():
    from psfl.config import register_section

    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int = 0

    with pytest.raises(TypeError, match="Section"):
        register_section("plain", Plain)
    assert "plain" not in SECTIONS
