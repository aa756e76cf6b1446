"""The AD9361 driver's attribute rules for a Pluto, as tables.

Each table is keyed by ``(device name, scope, attribute)``; a scope is ``"dev"``,
``"debug"``, ``"buffer"``, ``"in:<chn>"`` or ``"out:<chn>"``. A key's scope may also be a
pattern: ``"in:*"``/``"out:*"`` for every channel of one direction, ``"*"`` for any scope;
:func:`lookup` takes the most specific match (exact, then direction, then any).

- :data:`WRITE_RULES` — what a write accepts (a :class:`Rule`: parser, closed range,
  allowed values, quantisation step, stored format) and its effects (one value shared by
  the RX and TX channel; refused while an AGC owns the RX gain).
- :data:`DERIVED` — attributes computed on read from other state (``*_available``
  ranges, ``tx_path_rates``, the ADC/DAC rates that follow the PHY's sample rate).
- :data:`READ_FORMAT` — how a stored value is printed (``"71.000000 dB"``).
- :data:`DEFAULTS` — the values after power-up with the default firmware, and
  :data:`READ_ERRORS` — the reads the driver fails (both in :mod:`psfl.hil.pluto_defaults`).

Writes outside the driver's accepted range fail with ``-EINVAL`` exactly like
``ad9361_phy`` would; libiio turns that into ``OSError(errno.EINVAL)`` in pylibiio.
Pure Python; :class:`psfl.hil.pluto_state.PlutoState` applies these tables.
"""

from __future__ import annotations

import errno
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from psfl.hil.pluto_adi_debug import ADI_DEBUG_DEFAULTS
from psfl.hil.pluto_clock import MAX_BASEBAND_RATE, min_sample_rate, path_rates
from psfl.hil.pluto_defaults import DEFAULTS, READ_ERRORS
from psfl.hil.pluto_model import PHY, RXADC, TXDAC
from psfl.hil.pluto_tables import RX_BANDS, rx_band, rx_band_name, rx_gain_range

__all__ = [
    "DEFAULTS",
    "DERIVED",
    "ENSM_MODES",
    "GAIN_MODES",
    "LO_RANGE_AD9363",
    "LO_RANGE_AD9364",
    "READ_ERRORS",
    "READ_FORMAT",
    "RX_GAIN_RANGE",
    "RX_PORTS",
    "RX_RF_BW_RANGE",
    "SAMPLE_RATE_RANGE",
    "TX_LO_MIN_AD9364",
    "TX_GAIN_RANGE",
    "TX_PORTS",
    "TX_RF_BW_RANGE",
    "WRITE_RULES",
    "AttrError",
    "Rule",
    "is_read_only",
    "lookup",
    "rx_gain_error",
    "rx_gain_help",
]

# Range limits of the AD9361 driver for the Pluto (AD9363) and the AD9364 variant.
# RX_GAIN_RANGE spans every LO band's gain table (the AGC model's default clamp);
# a gain is valid only within the table of its RX LO's band (pluto_tables.RX_BANDS), which the
# driver, the twin and psfl's own checks (rx_gain_error) all apply.
LO_RANGE_AD9363 = (325_000_000, 3_800_000_000)
LO_RANGE_AD9364 = (70_000_000, 6_000_000_000)
#: The AD9364's TX synthesizer goes lower than its RX one (the driver's
#: MIN_TX_CARRIER_FREQ_HZ; the data sheet's TX band starts at 47 MHz).
TX_LO_MIN_AD9364 = 46_875_001
#: Every rate the chip can run (with pyadi's ×4 FIR); without the FIR the driver takes
#: 2083333 S/s and up (:func:`psfl.hil.pluto_clock.min_sample_rate`).
SAMPLE_RATE_RANGE = (520_833, 61_440_000)
RX_RF_BW_RANGE = (200_000, 56_000_000)
TX_RF_BW_RANGE = (200_000, 40_000_000)
TX_GAIN_RANGE = (-89.75, 0.0)
RX_GAIN_RANGE = (min(b.gain_min_db for b in RX_BANDS), max(b.gain_max_db for b in RX_BANDS))


def rx_gain_error(rx_gain_db: float, lo_hz: float) -> str | None:
    """Why the driver would refuse a manual RX gain at an RX LO (one line naming the band's
    range and the fix), or ``None`` when the gain table of that LO's band has it. psfl's
    configuration and :func:`psfl.hil.radios.check_pluto_settings` both ask this, so that a
    gain the chip lacks stops a run before any training or radio I/O, as the twin's EINVAL
    would only after them."""
    lo, hi = rx_gain_range(lo_hz)
    if lo <= rx_gain_db <= hi:
        return None
    return (f"hil.rx_gain_db {rx_gain_db:g} dB is outside the AD9361's RX gain range "
            f"{lo}..{hi} dB at hil.lo_hz {lo_hz / 1e9:g} GHz (the gain table for LOs "
            f"{rx_band_name(rx_band(round(lo_hz)))}); choose a gain in {lo}..{hi} dB")


def rx_gain_help() -> str:
    """The gain tables per LO band, for the configuration's help text."""
    return ", ".join(f"{b.gain_min_db}..{b.gain_max_db} dB {rx_band_name(b)}" for b in RX_BANDS)


#: AD9361 RX gain-control modes, in the order the driver lists them
#: (``gain_control_mode_available``); pyadi's ``gain_control_mode_chan0``.
GAIN_MODES: tuple[str, ...] = ("manual", "fast_attack", "slow_attack", "hybrid")
RX_PORTS = (
    "A_BALANCED B_BALANCED C_BALANCED A_N A_P B_N B_P C_N C_P TX_MONITOR1 TX_MONITOR2 TX_MONITOR1_2"
).split()
TX_PORTS = ("A", "B")
ENSM_MODES = ("sleep", "wait", "alert", "fdd", "pinctrl", "pinctrl_fdd_indep")
CALIB_MODES = ("auto", "manual", "manual_tx_quad", "tx_quad", "rf_dc_offs", "rssi_gain_step")

ANY = "*"
Key = tuple[str, str, str]
T = TypeVar("T")


class AttrError(Exception):
    """An attribute access failed; ``code`` is the positive errno iiod reports negated.

    Parameters
    ----------
    code:
        ``errno`` value (e.g. ``errno.EINVAL``); the wire answer is ``-code``.
    message:
        Human-readable reason, logged by the twin (libiio only sees the code).
    """

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or errno.errorcode.get(code, str(code)))
        self.code = code


class RadioView(Protocol):
    """What a rule may consult of the radio's current state (a ``PlutoState``)."""

    @property
    def rx_lo_range(self) -> tuple[int, int]: ...

    @property
    def tx_lo_range(self) -> tuple[int, int]: ...

    @property
    def fir_decimation(self) -> int: ...

    @property
    def fir_enabled(self) -> tuple[int, int]: ...

    @property
    def rate_governor(self) -> str: ...

    @property
    def xo_hz(self) -> int: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def gain_control_mode(self) -> str: ...

    @property
    def rx_gain_range(self) -> tuple[int, int]: ...

    @property
    def rssi_db(self) -> float: ...

    @property
    def dds_enabled(self) -> bool: ...


def lookup(table: Mapping[Key, T], dev: str, scope: str, attr: str) -> T | None:
    """The most specific entry for ``(dev, scope, attr)``: exact scope, then the scope's
    direction (``"in:*"``/``"out:*"``), then any scope; ``None`` without one."""
    for pattern in (scope, scope.split(":", 1)[0] + ":*", ANY):
        hit = table.get((dev, pattern, attr))
        if hit is not None:
            return hit
    return None


# -- parsers (the kernel's kstrto* semantics) ---------------------------------------------
def parse_int(text: str) -> int:
    """Parse an integer the way the kernel's ``kstrtoll`` accepts it (floats truncated
    the way pyadi sends them, e.g. ``'2400000000.0'``, are rejected by the driver too)."""
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise AttrError(errno.EINVAL, f"not an integer: {text!r}") from None


_FIXPOINT = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")


def parse_fixpoint(text: str) -> tuple[int, int]:
    """Parse a decimal the way the IIO core does for ``write_raw`` attributes
    (``iio_str_to_fixpoint``): optional sign, digits, optional ``.`` and up to six
    fraction digits (more are ignored); no exponent, no hex.

    Returns
    -------
    (integer, micro) : (int, int)
        ``"600000.0"`` → ``(600000, 0)``, ``"-0.25"`` → ``(0, -250000)``: the sign goes on
        the integer part, or on the fraction when the integer part is 0, as in the kernel.
    """
    m = _FIXPOINT.fullmatch(text.strip())
    if m is None or not (m.group(2) or m.group(3)):
        raise AttrError(errno.EINVAL, f"not a decimal number: {text!r}")
    sign = -1 if m.group(1) == "-" else 1
    integer = int(m.group(2) or "0")
    micro = int(((m.group(3) or "") + "000000")[:6])
    return (sign * integer, micro) if integer else (0, sign * micro)


def parse_fixpoint_int(text: str) -> int:
    """The integer part of a ``write_raw`` value: drivers that take whole numbers (the
    sample rate, DDS frequency, phase and enable) read ``val`` and ignore ``val2``, so
    ``"600000.0"`` and ``"3072000.0"`` are accepted as 600000 and 3072000."""
    return parse_fixpoint(text)[0]


def parse_float(text: str) -> float:
    """Parse a decimal number (``'-10.0'``, ``'71'``, ``'-10.25 dB'``)."""
    t = text.strip()
    if t.endswith("dB"):
        t = t[:-2].strip()
    try:
        v = float(t)
    except ValueError:
        raise AttrError(errno.EINVAL, f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise AttrError(errno.EINVAL, f"not finite: {text!r}")
    return v


def parse_bool(text: str) -> int:
    """``'1'``/``'0'``/``'True'``/``'False'`` → 1/0 (kstrtobool semantics)."""
    t = text.strip().lower()
    if t in ("1", "y", "yes", "on", "true"):
        return 1
    if t in ("0", "n", "no", "off", "false"):
        return 0
    raise AttrError(errno.EINVAL, f"not a boolean: {text!r}")


def parse_word(text: str) -> str:
    """A keyword such as a mode or port name (surrounding whitespace dropped)."""
    return text.strip()


def fir_summary(text: str) -> str:
    """Summarize a FIR config file the way the driver reads it back.

    The driver answers reads of ``filter_fir_config`` with ``"FIR Rx: <taps>,<dec>
    Tx: <taps>,<int>"``; pyadi writes a file with ``RX 3 GAIN -6 DEC 4`` / ``TX 3 GAIN 0
    INT 4`` headers followed by one ``rx,tx`` tap pair per line.
    """
    dec = re.search(r"DEC\s+(\d+)", text)
    interp = re.search(r"INT\s+(\d+)", text)
    taps = sum(1 for line in text.splitlines() if re.fullmatch(r"\s*-?\d+\s*,\s*-?\d+\s*", line))
    if taps == 0:
        raise AttrError(errno.EINVAL, "FIR config without taps")
    d = int(dec.group(1)) if dec else 1
    i = int(interp.group(1)) if interp else 1
    return f"FIR Rx: {taps},{d} Tx: {taps},{i}"


# -- DDS registers (cf_axi_dds) -----------------------------------------------------------
# A tone's frequency is a 16-bit phase increment per DAC sample, its phase a 16-bit offset
# and its scale a sign-magnitude word with 0x4000 = 1.0 (full scale). The conversions are
# those of ADI's AXI DAC core drivers (Linux cf_axi_dds, no-OS axi_dac_core.c): frequency
# × 0xFFFF / rate truncated, refused above rate/2 (the dump's power-up 9279985 Hz at
# 30.72 MS/s is increment 19797), phase in mdeg rounded to 1/65536 of a turn, scale rounded
# to 1/16384. The accumulator wraps at 2^16, so the tone sits at increment × rate / 65536,
# a little below the frequency read back.
def dds_increment(hz: int, rate: int) -> int:
    """Phase increment the driver writes for ``hz`` at DAC rate ``rate`` (16 bits kept)."""
    return (hz * 0xFFFF // rate) & 0xFFFF


def dds_frequency(increment: int, rate: int) -> int:
    """Frequency [Hz] the driver reads back for a phase increment."""
    return increment * rate // 0xFFFF


def dds_scale_word(scale: float) -> int:
    """Sign-magnitude scale word for ``scale`` (|scale| < 2)."""
    mag = min(round(abs(scale) * 0x4000), 0x7FFF)
    return mag | (0x8000 if scale < 0 else 0)


def dds_scale(word: int) -> float:
    """Scale of a sign-magnitude word (what the tone's amplitude is multiplied by)."""
    return (-1.0 if word & 0x8000 else 1.0) * (word & 0x7FFF) / 0x4000


def dds_phase_word(mdeg: int) -> int:
    """16-bit phase offset for ``mdeg`` millidegrees (360000 wraps to 0)."""
    return ((mdeg % 360_000) * 0x10000 + 180_000) // 360_000


def dds_phase_mdeg(word: int) -> int:
    """Millidegrees the driver reads back for a 16-bit phase offset."""
    return (word * 360_000 + 0x8000) // 0x10000


# -- write rules --------------------------------------------------------------------------
Limits = tuple[float, float] | Callable[[RadioView], tuple[int, int]]


@dataclass(frozen=True)
class Rule:
    """How the driver accepts a write to one attribute.

    Parameters
    ----------
    label : str
        The attribute's name in a refusal message.
    parse : Callable[[str], Any]
        Text → value; raises :class:`AttrError` (``EINVAL``) when malformed.
    limits : (lo, hi), Callable[[RadioView], (lo, hi)] or None
        Closed range of the value; a callable for ranges that depend on the radio
        (the LO range of the chip variant).
    choices : tuple or None
        The values accepted.
    step : float or None
        Quantisation step: the stored value is the nearest multiple.
    fmt : Callable[[Any], str]
        How the accepted value is stored.
    encode : Callable[[Any, RadioView], str] or None
        Instead of ``fmt``: the register value the driver stores, which may depend on the
        radio (a DDS frequency becomes a phase increment of the current DAC rate).
    store_scope : str or None
        Store under this scope instead of the written one (the RX and TX channels share
        one sample rate).
    targets : tuple of (scope, attribute)
        Store under these instead (one switch for several flags: the ``out`` channel's
        ``voltage_filter_fir_en`` sets the RX and the TX FIR).
    manual_only : bool
        Refused unless RX gain control is ``manual`` (an AGC owns the gain otherwise).

    Input
    -----
    text : str — the written value; ``radio`` : RadioView — the current state.

    Output
    ------
    stored : str — the value to store (:meth:`accept`).
    """

    label: str
    parse: Callable[[str], Any]
    limits: Limits | None = None
    choices: tuple[Any, ...] | None = None
    step: float | None = None
    fmt: Callable[[Any], str] = str
    store_scope: str | None = None
    targets: tuple[tuple[str, str], ...] = ()
    manual_only: bool = False
    encode: Callable[[Any, RadioView], str] | None = None

    def accept(self, text: str, radio: RadioView) -> str:
        """The value to store for ``text``; raises :class:`AttrError` (``EINVAL``)."""
        value = self.parse(text)
        if self.manual_only and radio.gain_control_mode != "manual":
            raise AttrError(errno.EINVAL, f"{self.label} is only writable in manual mode")
        if self.choices is not None and value not in self.choices:
            raise AttrError(errno.EINVAL, f"unknown {self.label} {value!r}")
        if self.limits is not None:
            lo, hi = self.limits(radio) if callable(self.limits) else self.limits
            if not lo <= value <= hi:
                raise AttrError(errno.EINVAL, f"{self.label} {value} outside [{lo}, {hi}]")
        if self.step is not None:
            value = float(round(value / self.step) * self.step)
        return self.fmt(value) if self.encode is None else self.encode(value, radio)


_BOOL = Rule("flag", parse_bool)
_RX_LO = Rule("RX LO frequency [Hz]", parse_int, limits=lambda radio: radio.rx_lo_range)
_TX_LO = Rule("TX LO frequency [Hz]", parse_int, limits=lambda radio: radio.tx_lo_range)
# The sample rate is IIO_CHAN_INFO_SAMP_FREQ, written through write_raw: the IIO core parses
# it as a fixed-point decimal (clients send "600000.0"); the LO frequencies and the RF
# bandwidths are driver ext_info attributes parsed with kstrtoull (integers only).
_FS = Rule(
    "sample rate",
    parse_fixpoint_int,
    limits=lambda radio: (min_sample_rate(radio.fir_decimation), MAX_BASEBAND_RATE),
    store_scope="in:voltage0",
)

#: ``(device, scope pattern, attribute)`` → how a write is accepted.
WRITE_RULES: dict[Key, Rule] = {
    (PHY, "out:altvoltage0", "frequency"): _RX_LO,
    (PHY, "out:altvoltage1", "frequency"): _TX_LO,
    (PHY, "in:voltage0", "sampling_frequency"): _FS,
    (PHY, "out:voltage0", "sampling_frequency"): _FS,
    (PHY, "in:voltage0", "rf_bandwidth"): Rule("rf_bandwidth", parse_int, RX_RF_BW_RANGE),
    (PHY, ANY, "rf_bandwidth"): Rule("rf_bandwidth", parse_int, TX_RF_BW_RANGE),
    (PHY, "out:voltage0", "hardwaregain"): Rule(
        "TX gain [dB]", parse_float, TX_GAIN_RANGE, step=0.25, fmt=repr
    ),
    (PHY, "in:voltage0", "hardwaregain"): Rule(
        "RX gain [dB]",
        parse_float,
        lambda radio: radio.rx_gain_range,
        step=1.0,
        fmt=repr,
        manual_only=True,
    ),
    (PHY, ANY, "gain_control_mode"): Rule("gain mode", parse_word, choices=GAIN_MODES),
    (PHY, "in:*", "rf_port_select"): Rule("port", parse_word, choices=tuple(RX_PORTS)),
    (PHY, ANY, "rf_port_select"): Rule("port", parse_word, choices=TX_PORTS),
    (PHY, ANY, "ensm_mode"): Rule("ENSM mode", parse_word, choices=ENSM_MODES),
    (PHY, "dev", "trx_rate_governor"): Rule(
        "rate governor", parse_word, choices=("nominal", "highest_osr")
    ),
    (PHY, "dev", "calib_mode"): Rule("calibration mode", parse_word, choices=CALIB_MODES),
    # the crystal's correction, within ±8 kHz of nominal (xo_correction_available)
    (PHY, "dev", "xo_correction"): Rule("xo_correction [Hz]", parse_int, (39_992_000, 40_008_000)),
    (PHY, ANY, "filter_fir_config"): Rule("FIR config", fir_summary),
    (PHY, "debug", "loopback"): Rule("loopback mode", parse_int, choices=(0, 1, 2)),
    (PHY, "in:out", "voltage_filter_fir_en"): Rule(
        "FIR enable", parse_bool,
        targets=(("in:voltage0", "filter_fir_en"), ("out:voltage0", "filter_fir_en")),
    ),
    # the platform settings hold integers (u32 or signed, e.g. temp-sense-offset-signed)
    **{(PHY, "debug", key): Rule(key, parse_int) for key in ADI_DEBUG_DEFAULTS},
    **{
        (PHY, ANY, flag): _BOOL
        for flag in (
            "filter_fir_en",
            "external",
            "powerdown",
            "bb_dc_offset_tracking_en",
            "quadrature_tracking_en",
            "rf_dc_offset_tracking_en",
        )
    },
    (TXDAC, ANY, "scale"): Rule(
        "DDS scale", parse_float, (-1.999999, 1.999999), encode=lambda s, _: str(dds_scale_word(s))
    ),
    # One enable for all tones (the core's DDS enable), however many channels are written.
    (TXDAC, ANY, "raw"): Rule("DDS enable", parse_fixpoint_int, fmt=lambda v: str(int(v != 0)),
                              store_scope="dds"),
    (TXDAC, ANY, "frequency"): Rule(
        "DDS frequency [Hz]", parse_fixpoint_int, lambda radio: (0, radio.sample_rate // 2),
        encode=lambda hz, radio: str(dds_increment(hz, radio.sample_rate)),
    ),
    (TXDAC, ANY, "phase"): Rule(
        "DDS phase [mdeg]", parse_fixpoint_int, (0, 360_000), encode=lambda md, _: str(dds_phase_word(md))
    ),
}

_READ_ONLY = frozenset({"rssi", "tx_path_rates", "rx_path_rates", "input"})


def is_read_only(attr: str) -> bool:
    """Attributes no write reaches on any device (ranges, measurements, rate reports)."""
    return attr.endswith("_available") or attr in _READ_ONLY


# -- derived on read ----------------------------------------------------------------------
def _path_rates(radio: RadioView) -> tuple[str, str]:
    return path_rates(radio.sample_rate, radio.fir_decimation, radio.rate_governor, radio.xo_hz)


def _clamp(value: float, limits: tuple[int, int]) -> float:
    return float(min(max(value, limits[0]), limits[1]))


def _range(lo: float, hi: float) -> str:
    return f"[{lo} 1 {hi}]"


def _sample_rate(radio: RadioView) -> str:
    return str(radio.sample_rate)


def _fs_range(radio: RadioView) -> str:
    return _range(min_sample_rate(radio.fir_decimation), MAX_BASEBAND_RATE)


def _dma_rates(radio: RadioView) -> str:
    fs = radio.sample_rate
    return f"{fs} {fs // 8} "  # iiod's trailing space, as in the dump


Derived = str | Callable[[RadioView], str]

#: ``(device, scope pattern, attribute)`` → the value read (fixed, or from the state).
DERIVED: dict[Key, Derived] = {
    (PHY, "in:voltage0", "sampling_frequency"): _sample_rate,
    (PHY, "out:voltage0", "sampling_frequency"): _sample_rate,
    (PHY, "out:altvoltage0", "frequency_available"): lambda radio: _range(*radio.rx_lo_range),
    (PHY, "out:altvoltage1", "frequency_available"): lambda radio: _range(*radio.tx_lo_range),
    (PHY, ANY, "sampling_frequency_available"): _fs_range,
    (PHY, "in:*", "rf_bandwidth_available"): _range(*RX_RF_BW_RANGE),
    (PHY, ANY, "rf_bandwidth_available"): _range(*TX_RF_BW_RANGE),
    (PHY, "in:*", "hardwaregain_available"): lambda radio: _range(*radio.rx_gain_range),
    (PHY, ANY, "hardwaregain_available"): "[-89.750000 0.250000 0.000000]",
    (PHY, ANY, "gain_control_mode_available"): " ".join(GAIN_MODES),
    (PHY, "in:*", "rf_port_select_available"): " ".join(RX_PORTS),
    (PHY, ANY, "rf_port_select_available"): " ".join(TX_PORTS),
    (PHY, ANY, "ensm_mode_available"): " ".join(ENSM_MODES),
    (PHY, ANY, "calib_mode_available"): " ".join(CALIB_MODES),
    (PHY, ANY, "trx_rate_governor_available"): "nominal highest_osr",
    (PHY, ANY, "xo_correction_available"): "[39992000 1 40008000]",
    (PHY, ANY, "dcxo_tune_coarse_available"): "[0 0 0]",
    (PHY, ANY, "dcxo_tune_fine_available"): "[0 0 0]",
    (PHY, "out:*", "rssi"): "0.00 dB",
    (PHY, ANY, "rssi"): lambda radio: f"{radio.rssi_db:.2f} dB",
    (TXDAC, ANY, "raw"): lambda radio: str(int(radio.dds_enabled)),
    # reads 1 when both FIRs are on, as the driver's show does
    (PHY, "in:out", "voltage_filter_fir_en"): lambda radio: str(int(radio.fir_enabled == (1, 1))),
    (PHY, ANY, "tx_path_rates"): lambda radio: _path_rates(radio)[1],
    (PHY, ANY, "rx_path_rates"): lambda radio: _path_rates(radio)[0],
    **{(dma, ANY, "sampling_frequency"): _sample_rate for dma in (RXADC, TXDAC)},
    **{(dma, ANY, "sampling_frequency_available"): _dma_rates for dma in (RXADC, TXDAC)},
}

#: ``(device, scope pattern, attribute)`` → how the stored value is printed.
READ_FORMAT: dict[Key, Callable[[str, RadioView], str]] = {
    # a gain set in another LO band reads as the nearest one the current band's table has
    (PHY, "in:*", "hardwaregain"): lambda raw, radio: f"{_clamp(float(raw), radio.rx_gain_range):.6f} dB",
    (PHY, ANY, "hardwaregain"): lambda raw, _: f"{float(raw):.6f} dB",
    (TXDAC, ANY, "frequency"): lambda raw, radio: str(dds_frequency(int(raw), radio.sample_rate)),
    (TXDAC, ANY, "phase"): lambda raw, _: str(dds_phase_mdeg(int(raw))),
    (TXDAC, ANY, "scale"): lambda raw, _: f"{dds_scale(int(raw)):.6f}",
}
