"""psfl.phy.channels.registry: one module per channel family, capabilities read by the
configuration, the federation and the MCS-table key; a new channel needs nothing else."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from psfl.config import ConfigError
from psfl.phy.channels.registry import CHANNELS, ChannelModel
from psfl.phy.config import CHANNELS as CHANNEL_NAMES
from psfl.phy.config import CIR_CHANNELS, PATHLOSS_CHANNELS, PhyConfig

TDL = tuple(f"tdl-{p}" for p in "abcde")
CDL = tuple(f"cdl-{p}" for p in "abcde")
FAMILIES = {"awgn": ("awgn",), "rayleigh": ("rayleigh",), "tdl": TDL, "cdl": CDL,
            "system_level": ("umi", "uma", "rma")}


def test_every_name_registered_once_by_its_family_module():
    names = CHANNELS.names()
    assert names == ("awgn", "rayleigh", *TDL, *CDL, "umi", "uma", "rma")
    assert len(set(names)) == len(names)
    assert CHANNEL_NAMES == names
    modules = {row["name"]: row["module"] for row in CHANNELS.table()}
    for family, members in FAMILIES.items():
        for name in members:
            assert modules[name] == f"psfl.phy.channels.{family}", name


def test_capability_lists():
    assert CIR_CHANNELS == CHANNELS.names(has_cir=True) == (*TDL, *CDL, "umi", "uma", "rma")
    assert CHANNELS.names(has_cir=False) == ("awgn", "rayleigh")
    assert PATHLOSS_CHANNELS == CHANNELS.names(has_pathloss=True) == ("umi", "uma", "rma")
    assert CHANNELS.names(small_scale=True) == ("awgn", "rayleigh", *TDL)
    assert CHANNELS.names(fading=False) == ("awgn",)


def test_federation_small_scale_reads_the_capability():
    from psfl.federation.config import SMALL_SCALE_CHANNELS

    assert SMALL_SCALE_CHANNELS == ("awgn", "rayleigh", *TDL)


def test_a_name_registered_twice_is_refused():
    class Other(ChannelModel):
        pass

    with pytest.raises(ValueError, match="channel 'awgn' is registered twice"):
        CHANNELS.register("awgn")(Other)
    assert CHANNELS.cls("awgn").__module__ == "psfl.phy.channels.awgn"


def test_unknown_channel_names_the_choices():
    from psfl.phy.channels import ChannelSampler

    with pytest.raises(ConfigError, match=r"phy.channel: unknown channel 'tdl-z'; choose one "
                                          r"of awgn, rayleigh, tdl-a, .*, rma \(phy.channel\)"):
        PhyConfig(channel="tdl-z")
    cfg = object.__new__(PhyConfig)  # bypasses the configuration's own check
    object.__setattr__(cfg, "channel", "tdl-z")
    with pytest.raises(ValueError, match="unknown channel 'tdl-z'; choose one of awgn"):
        ChannelSampler(cfg, 1 / 30e3)


def test_time_domain_needs_an_impulse_response():
    with pytest.raises(ConfigError, match="phy.domain='time' needs a channel with an impulse "
                                          "response \\(tdl-a, .*\\); rayleigh is flat"):
        PhyConfig(channel="rayleigh", domain="time")
    PhyConfig(channel="cdl-b", domain="time")


def test_listing_channels_imports_no_tensorflow():
    probe = ("import json, sys\n"
             "from psfl.phy.channels.registry import CHANNELS\n"
             "import psfl.phy.channels\n"
             "names = CHANNELS.names(has_cir=True)\n"
             "print(json.dumps([m for m in ('tensorflow', 'sionna', 'keras') "
             "if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("name, shape", [
    ("awgn", (1, 2, 1, 1)), ("rayleigh", (3, 2, 1, 1)), ("tdl-c", (3, 2, 4, 24)),
    ("cdl-a", (3, 2, 4, 24)), ("uma", (3, 2, 4, 24)),
])
def test_every_family_draws_its_documented_shape(name, shape):
    from psfl.phy.channels import ChannelSampler

    cfg = PhyConfig(channel=name, num_subcarriers=24, fft_size=32, cp_length=4,
                    num_ofdm_symbols=4, pilot_ofdm_symbol_indices=(0,), num_rx_ant=2)
    sampler = ChannelSampler(cfg, 1 / 30e3)
    h = sampler(3)
    assert tuple(h.shape) == shape and h.dtype.name == "complex64"
    assert sampler.has_cir == (name in CIR_CHANNELS)
    fixed = name.startswith(("tdl", "cdl"))
    assert (sampler.path_delays_s is not None) == fixed
    if fixed:
        assert np.isclose(sampler.path_powers.sum(), 1.0)
    if not sampler.has_cir:
        with pytest.raises(ValueError, match=f"channel '{name}' has no impulse response"):
            sampler.cir(3, 4, 30e3)


class HalfGain(ChannelModel):
    r"""A test channel: :math:`h = 1/2` on every resource element, one draw per slot.

    Output
    ------
    h : [num_slots, num_rx_ant, 1, 1], tf.complex64
    """

    def response(self, num_slots, frequencies, sampling_frequency):
        import tensorflow as tf

        return tf.fill([num_slots, self.cfg.num_rx_ant, 1, 1], tf.complex(0.5, 0.0))


@pytest.fixture
def half_gain():
    """``half-gain`` registered in the real registry for the test, removed afterwards."""
    name = "half-gain"
    CHANNELS.register(name)(HalfGain)
    try:
        yield name
    finally:
        CHANNELS._entries.pop(name)  # noqa: SLF001


def test_a_new_channel_is_one_class(half_gain):
    from psfl.phy.channels import ChannelSampler
    from psfl.phy.digital.calibration import key_fields

    assert CHANNELS.names()[-1] == half_gain
    assert half_gain not in CHANNELS.names(has_cir=True) + CHANNELS.names(small_scale=True)
    cfg = PhyConfig(channel=half_gain, num_rx_ant=3)  # the configuration reads the registry
    h = ChannelSampler(cfg, 1 / 30e3)(5)
    assert tuple(h.shape) == (5, 3, 1, 1)
    np.testing.assert_array_equal(h.numpy(), 0.5)
    # Its MCS-table key follows its capabilities: a fading channel without CIR or path loss.
    assert key_fields(cfg) == key_fields(PhyConfig(channel="rayleigh"))


def test_the_test_channel_is_gone_afterwards():
    assert "half-gain" not in CHANNELS
    with pytest.raises(ConfigError, match="unknown channel 'half-gain'"):
        PhyConfig(channel="half-gain")
