"""psfl.hil.config: the manual RX gain is checked against the gain table of hil.lo_hz's band,
the same table the twin serves as ``hardwaregain_available`` (one definition:
:data:`psfl.hil.pluto_tables.RX_BANDS`)."""

from __future__ import annotations

import pytest

from psfl.config import ConfigError, load_config
from psfl.hil.config import HilConfig
from psfl.hil.pluto_model import PHY
from psfl.hil.pluto_state import PlutoState
from psfl.hil.pluto_tables import RX_BANDS, rx_gain_range

# The dump reads in_voltage0_hardwaregain_available = [-3 1 71] at 2.4 GHz; the driver's full
# tables span -1..73 dB up to 1300 MHz and -10..62 dB above 4 GHz (pluto_tables.RX_BANDS).
CASES = [(800e6, -1, 73), (1.3e9, -1, 73), (2.44e9, -3, 71), (4.0e9, -3, 71), (5.8e9, -10, 62)]


@pytest.mark.parametrize(("lo_hz", "lo", "hi"), CASES)
def test_gain_range_per_lo_band(lo_hz: float, lo: int, hi: int) -> None:
    assert rx_gain_range(lo_hz) == (lo, hi)
    for g in (lo, hi):
        HilConfig(lo_hz=lo_hz, rx_gain_db=g)
    for g in (lo - 1, hi + 1):
        with pytest.raises(ConfigError, match=rf"rx_gain_db {g} dB .* {lo}\.\.{hi} dB at hil\.lo_hz"):
            HilConfig(lo_hz=lo_hz, rx_gain_db=g)


def test_the_error_is_one_line_naming_the_band() -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(None, ["hil.rx_gain_db=72"])
    msg = str(exc.value)
    assert "\n" not in msg
    assert "-3..71 dB at hil.lo_hz 2.44 GHz" in msg and "LOs 1.3-4 GHz" in msg


def test_a_gain_no_band_has_names_the_configured_bands_range() -> None:
    """74 dB is in no table at all; the error still names the range at hil.lo_hz."""
    assert max(b.gain_max_db for b in RX_BANDS) == 73
    with pytest.raises(ConfigError, match=r"74 dB .* -3\.\.71 dB at hil\.lo_hz 2\.44 GHz"):
        HilConfig(rx_gain_db=74)


@pytest.mark.parametrize(("lo_hz", "lo", "hi"), CASES)
def test_config_and_twin_read_one_table(lo_hz: float, lo: int, hi: int) -> None:
    """What psfl accepts is what the twin lists as available at that RX LO."""
    st = PlutoState(ad9364=True)
    st.write(PHY, "out:altvoltage0", "frequency", str(int(lo_hz)))
    assert st.read(PHY, "in:voltage0", "hardwaregain_available") == f"[{lo} 1 {hi}]"
