"""psfl.hil.radios: the radios by name, their capabilities, and a new radio needing no other
edit (configuration choice, error message, factory)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from psfl.config import ConfigError
from psfl.hil.config import HilConfig
from psfl.hil.radios import (
    RADIOS,
    EmulatedRadio,
    PlutoRadio,
    Radio,
    RadioError,
    TwinRadio,
    open_radio,
)

FS, SCS = 3.84e6, 30e3


def test_names_and_classes():
    assert RADIOS.names() == ("pluto", "twin", "emulated")
    assert [RADIOS.cls(n) for n in RADIOS] == [PlutoRadio, TwinRadio, EmulatedRadio]
    assert all(RADIOS.cls(n).kind == n for n in RADIOS)


def test_capabilities():
    keys = ("sets_own_snr", "needs_libiio", "applies_cfo_subcarriers", "applies_lo_offset",
            "uses_uri", "label")
    got = {row["name"]: tuple(row[k] for k in keys) for row in RADIOS.table(*keys)}
    assert got == {
        "pluto": (False, True, False, True, True, "ADALM-Pluto"),
        "twin": (True, True, True, True, False, "Pluto twin"),
        "emulated": (True, False, True, False, False, "emulated front end"),
    }
    assert RADIOS.names(sets_own_snr=True) == ("twin", "emulated")
    assert RADIOS.names(needs_libiio=False) == ("emulated",)


def test_cfo_rule():
    """Emulated: the subcarrier offset; twin: that plus the LO offset; Pluto: the LO offset."""
    hil = HilConfig(cfo_subcarriers=2.0, tx_lo_offset_hz=100.0)
    assert {n: RADIOS.cls(n).cfo_hz(hil, SCS) for n in RADIOS} == {
        "pluto": 100.0, "twin": 60_100.0, "emulated": 60_000.0}
    plain = HilConfig()
    # A Pluto asked for no offset shows none as set; the others show the 0 Hz they apply.
    assert {n: RADIOS.cls(n).cfo_set_hz(plain, SCS) for n in RADIOS} == {
        "pluto": None, "twin": 0.0, "emulated": 0.0}
    assert PlutoRadio.cfo_set_hz(HilConfig(tx_lo_offset_hz=-5.0), SCS) == -5.0


def test_where_names_the_uri_of_a_real_pluto():
    hil = HilConfig(uri="usb:1.2.5")
    assert PlutoRadio.where(hil) == "ADALM-Pluto at usb:1.2.5"
    assert TwinRadio.where(hil) == "Pluto twin"


def test_config_choices_help_and_error_come_from_the_registry():
    help_text = HilConfig.__dataclass_fields__["radio"].metadata["help"]
    assert all(f"{e.name} ({e.cls.about})" in help_text for e in RADIOS.entries())
    with pytest.raises(ConfigError, match=r"hil.radio: unknown radio 'hackrf'; choose one of "
                                          r"pluto, twin, emulated \(hil.radio \(--radio\)\)"):
        HilConfig(radio="hackrf")


def test_open_radio_builds_the_emulated_front_end_from_the_config():
    hil = HilConfig(radio="emulated", cfo_subcarriers=-1.5, snr_db=20.0, rx_buffer_size=4096)
    with open_radio(hil, FS, SCS, seed=1) as radio:
        assert isinstance(radio, EmulatedRadio)
        assert radio.cfo_hz == -1.5 * SCS and radio.snr_db == 20.0
        assert radio.rx_buffer_size == 4096 and radio.sample_rate_hz == FS
    with open_radio(hil, FS, SCS, seed=1, snr_db=15.8) as radio:
        assert radio.snr_db == 15.8  # the plan's noise relative to the waveform wins


def test_open_radio_refuses_an_unknown_name_listing_the_radios():
    class Hil:
        radio = "hackrf"

    with pytest.raises(RadioError, match="unknown radio 'hackrf'; choose one of pluto"):
        open_radio(Hil(), FS, SCS)


def test_listing_radios_imports_no_tensorflow_nor_pyadi():
    code = ("import json, sys\n"
            "from psfl.hil.radios import RADIOS\n"
            "rows = RADIOS.table('sets_own_snr', 'needs_libiio')\n"
            "print(json.dumps([len(rows), sorted(m for m in ('tensorflow', 'keras', 'sionna', "
            "'adi', 'matplotlib') if m in sys.modules)]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [3, []]


# -- a new radio: one class, no other edit -------------------------------------------------
class _Loopback(Radio):
    """A perfect cable: ``rx()`` returns the cyclic TX buffer from its start."""

    kind = "test-loopback"
    label = "test loopback"
    about = "a perfect cable, for the tests"

    def __init__(self, sample_rate_hz: float, rx_buffer_size: int):
        self.sample_rate_hz, self.rx_buffer_size = sample_rate_hz, rx_buffer_size
        self._buf = np.zeros(1, np.complex128)

    @classmethod
    def from_config(cls, hil, sample_rate_hz, scs_hz, *, seed=None, snr_db=None,
                    twin_kwargs=None):
        return cls(sample_rate_hz, hil.rx_buffer_size or 1024)

    def tx(self, samples):
        self._buf = np.asarray(samples, np.complex128)

    def rx(self):
        return np.resize(self._buf, self.rx_buffer_size) / 8


@pytest.fixture
def loopback():
    name = _Loopback.kind
    RADIOS.register(name)(_Loopback)
    yield name
    RADIOS._entries.pop(name)


def test_a_registered_radio_is_offered_everywhere(loopback):
    assert loopback in RADIOS.names()
    hil = HilConfig(radio=loopback, rx_buffer_size=1024)  # the configuration accepts it
    with open_radio(hil, FS, SCS) as radio:
        assert isinstance(radio, _Loopback) and radio.rx_buffer_size == 1024
        radio.tx(np.arange(4) + 0j)
        assert np.allclose(radio.rx()[:5], np.r_[0, 1, 2, 3, 0] / 8)
    assert radio.describe() == {"radio": loopback}
    with pytest.raises(ConfigError, match=f"choose one of .*{loopback}"):  # offered by name
        HilConfig(radio="x")


def test_a_removed_radio_is_refused_again(loopback):
    HilConfig(radio=loopback)
    RADIOS._entries.pop(loopback)
    try:
        with pytest.raises(ConfigError, match=f"unknown radio '{loopback}'"):
            HilConfig(radio=loopback)
    finally:
        RADIOS.register(loopback)(_Loopback)  # for the fixture's teardown
