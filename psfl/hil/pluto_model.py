"""Device model of an ADALM-Pluto as seen through libiio: devices, channels, attributes.

This module describes the IIO context a Pluto (AD9363 in 1R1T mode, default firmware)
exposes, renders it as the XML document that ``iiod`` sends in answer to ``PRINT``, and
keeps the attribute state of the twin with the range checks of the AD9361 Linux driver.
It is pure Python (no numpy, no sockets); :mod:`psfl.hil.twin` serves it over TCP.

Devices (ids as on a real Pluto):

- ``iio:device0`` ``ad9361-phy`` — the transceiver control device: ``altvoltage0`` (RX_LO)
  and ``altvoltage1`` (TX_LO) frequencies, ``voltage0`` input/output (sampling_frequency,
  rf_bandwidth, hardwaregain, gain_control_mode, rf_port_select …), the ``out`` input
  channel holding ``voltage_filter_fir_en``, device attributes such as
  ``filter_fir_config`` and ``tx_path_rates``, and debug attributes such as ``loopback``.
- ``iio:device1`` ``xadc`` — on-chip temperature/voltage monitor (read-only, decorative).
- ``iio:device2`` ``cf-ad9361-dds-core-lpc`` — the TX DMA/DAC core: scan channels
  ``voltage0``/``voltage1`` (I/Q, ``le:S16/16>>0``; the DAC uses the 12 MSBs) and the four
  DDS tone channels ``altvoltage0..3`` that pyadi-iio disables before streaming.
- ``iio:device3`` ``cf-ad9361-lpc`` — the RX DMA/ADC core: scan channels
  ``voltage0``/``voltage1`` (I/Q, ``le:S12/16>>0``, sign-extended 12-bit samples).

Attribute values are formatted as the real driver formats them (``"71.000000 dB"`` for
RX hardwaregain, ``"[325000000 1 3800000000]"`` for ranges …). Writes outside the
driver's accepted range fail with ``-EINVAL`` exactly like ``ad9361_phy`` would; libiio
turns that into ``OSError(errno.EINVAL)`` in pylibiio.
"""

from __future__ import annotations

import errno
import math
import re
import threading
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

__all__ = [
    "AttrError",
    "Channel",
    "Device",
    "PlutoState",
    "build_pluto_devices",
    "context_xml",
]

# Range limits of the AD9361 driver for the Pluto (AD9363) and the AD9364 variant.
LO_RANGE_AD9363 = (325_000_000, 3_800_000_000)
LO_RANGE_AD9364 = (70_000_000, 6_000_000_000)
SAMPLE_RATE_RANGE = (520_833, 61_440_000)
RX_RF_BW_RANGE = (200_000, 56_000_000)
TX_RF_BW_RANGE = (200_000, 40_000_000)
TX_GAIN_RANGE = (-89.75, 0.0)
RX_GAIN_RANGE = (0, 73)

GAIN_MODES = ("manual", "fast_attack", "slow_attack", "hybrid")
RX_PORTS = (
    "A_BALANCED B_BALANCED C_BALANCED A_N A_P B_N B_P C_N C_P TX_MONITOR1 TX_MONITOR2 TX_MONITOR1_2"
).split()
TX_PORTS = ("A", "B")
ENSM_MODES = ("sleep", "wait", "alert", "fdd", "pinctrl", "pinctrl_fdd_indep")

# The DTD iiod prepends to its XML; libiio parses the XML with DTD validation on.
_XML_DTD = (
    '<?xml version="1.0" encoding="utf-8"?>'
    "<!DOCTYPE context ["
    "<!ELEMENT context (device | context-attribute)*>"
    "<!ELEMENT context-attribute EMPTY>"
    "<!ELEMENT device (channel | attribute | debug-attribute | buffer-attribute)*>"
    "<!ELEMENT channel (scan-element?, attribute*)>"
    "<!ELEMENT attribute EMPTY>"
    "<!ELEMENT scan-element EMPTY>"
    "<!ELEMENT debug-attribute EMPTY>"
    "<!ELEMENT buffer-attribute EMPTY>"
    "<!ATTLIST context name CDATA #REQUIRED version-major CDATA #REQUIRED "
    "version-minor CDATA #REQUIRED version-git CDATA #REQUIRED description CDATA #IMPLIED>"
    "<!ATTLIST context-attribute name CDATA #REQUIRED value CDATA #REQUIRED>"
    "<!ATTLIST device id CDATA #REQUIRED name CDATA #IMPLIED label CDATA #IMPLIED>"
    "<!ATTLIST channel id CDATA #REQUIRED type (input|output) #REQUIRED name CDATA #IMPLIED>"
    "<!ATTLIST scan-element index CDATA #REQUIRED format CDATA #REQUIRED scale CDATA #IMPLIED>"
    "<!ATTLIST attribute name CDATA #REQUIRED filename CDATA #IMPLIED>"
    "<!ATTLIST debug-attribute name CDATA #REQUIRED>"
    "<!ATTLIST buffer-attribute name CDATA #REQUIRED>"
    "]>"
)


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


@dataclass
class Channel:
    """One IIO channel.

    Attributes
    ----------
    id, name:
        Channel id (``voltage0``) and optional label (``RX_LO``).
    output:
        ``True`` for an output channel.
    attrs:
        Attribute names (without the sysfs prefix).
    scan_index, fmt:
        Scan-element index and data format (``le:S12/16>>0``) for streaming channels,
        ``None`` for attribute-only channels.
    """

    id: str
    output: bool
    attrs: list[str]
    name: str | None = None
    scan_index: int | None = None
    fmt: str | None = None

    @property
    def is_scan_element(self) -> bool:
        """Whether the channel carries buffer data."""
        return self.scan_index is not None

    @property
    def sample_bytes(self) -> int:
        """Storage bytes per sample (``16`` in ``le:S12/16>>0`` → 2)."""
        if self.fmt is None:
            return 0
        m = re.match(r"[lb]e:[sSuU](\d+)/(\d+)", self.fmt)
        if m is None:
            raise ValueError(f"bad format {self.fmt!r}")
        return int(m.group(2)) // 8


@dataclass
class Device:
    """One IIO device with its channels and device/debug/buffer attribute names."""

    id: str
    name: str
    channels: list[Channel]
    attrs: list[str] = field(default_factory=list)
    debug_attrs: list[str] = field(default_factory=list)
    buffer_attrs: list[str] = field(default_factory=list)

    @property
    def is_tx(self) -> bool:
        """A device whose scan channels are outputs (libiio's ``iio_device_is_tx``)."""
        return any(c.output and c.is_scan_element for c in self.channels)

    @property
    def has_buffer(self) -> bool:
        """Whether OPEN/READBUF/WRITEBUF make sense for this device."""
        return any(c.is_scan_element for c in self.channels)

    @property
    def mask_words(self) -> int:
        """Number of 32-bit words in the channel mask libiio sends with OPEN."""
        return (len(self.channels) + 31) // 32

    def find_channel(self, key: str, output: bool) -> Channel | None:
        """Channel by id or name and direction, as ``iio_device_find_channel`` does."""
        for c in self.channels:
            if c.output == output and (c.id == key or (c.name is not None and c.name == key)):
                return c
        return None


_LO_ATTRS = [
    "external",
    "fastlock_load",
    "fastlock_recall",
    "fastlock_save",
    "fastlock_store",
    "frequency",
    "frequency_available",
    "powerdown",
]
_PHY_RX_ATTRS = [
    "bb_dc_offset_tracking_en",
    "filter_fir_en",
    "gain_control_mode",
    "gain_control_mode_available",
    "hardwaregain",
    "hardwaregain_available",
    "quadrature_tracking_en",
    "rf_bandwidth",
    "rf_bandwidth_available",
    "rf_dc_offset_tracking_en",
    "rf_port_select",
    "rf_port_select_available",
    "rssi",
    "sampling_frequency",
    "sampling_frequency_available",
]
_PHY_TX_ATTRS = [
    "filter_fir_en",
    "hardwaregain",
    "hardwaregain_available",
    "rf_bandwidth",
    "rf_bandwidth_available",
    "rf_port_select",
    "rf_port_select_available",
    "rssi",
    "sampling_frequency",
    "sampling_frequency_available",
]
_PHY_DEV_ATTRS = [
    "calib_mode",
    "calib_mode_available",
    "dcxo_tune_coarse",
    "dcxo_tune_coarse_available",
    "dcxo_tune_fine",
    "dcxo_tune_fine_available",
    "ensm_mode",
    "ensm_mode_available",
    "filter_fir_config",
    "gain_table_config",
    "multichip_sync",
    "rssi_gain_step_error",
    "rx_path_rates",
    "trx_rate_governor",
    "trx_rate_governor_available",
    "tx_path_rates",
    "xo_correction",
    "xo_correction_available",
]
_PHY_DEBUG_ATTRS = [
    "digital_tune",
    "calibration_switch_control",
    "multichip_sync",
    "gaininfo_rx1",
    "bist_timing_analysis",
    "gpo_set",
    "bist_tone",
    "bist_prbs",
    "loopback",
    "initialize",
    "direct_reg_access",
]
_ADC_CHN_ATTRS = [
    "calibbias",
    "calibphase",
    "calibscale",
    "samples_pps",
    "sampling_frequency",
    "sampling_frequency_available",
]
_DAC_CHN_ATTRS = ["calibphase", "calibscale", "sampling_frequency", "sampling_frequency_available"]
_DDS_ATTRS = ["frequency", "phase", "raw", "sampling_frequency", "scale"]

RX_FORMAT = "le:S12/16>>0"
TX_FORMAT = "le:S16/16>>0"
PHY = "ad9361-phy"
RXADC = "cf-ad9361-lpc"
TXDAC = "cf-ad9361-dds-core-lpc"


def build_pluto_devices() -> list[Device]:
    """The four IIO devices of a Pluto in 1R1T mode, scan channels first (as iiod lists them).

    Returns
    -------
    list[Device]
        ``ad9361-phy``, ``xadc``, ``cf-ad9361-dds-core-lpc``, ``cf-ad9361-lpc``.
    """
    phy = Device(
        id="iio:device0",
        name=PHY,
        channels=[
            Channel("altvoltage1", True, list(_LO_ATTRS), name="TX_LO"),
            Channel("voltage0", False, list(_PHY_RX_ATTRS)),
            Channel("voltage3", True, ["raw", "scale"]),
            Channel("altvoltage0", True, list(_LO_ATTRS), name="RX_LO"),
            Channel("voltage2", False, ["offset", "raw", "scale"]),
            Channel("temp0", False, ["input"]),
            Channel("voltage0", True, list(_PHY_TX_ATTRS)),
            Channel("voltage2", True, ["raw", "scale"]),
            Channel("out", False, ["voltage_filter_fir_en"]),
        ],
        attrs=list(_PHY_DEV_ATTRS),
        debug_attrs=list(_PHY_DEBUG_ATTRS),
    )
    xadc = Device(
        id="iio:device1",
        name="xadc",
        channels=[
            Channel("voltage5", False, ["label", "raw", "scale"]),
            Channel("temp0", False, ["offset", "raw", "scale"]),
            Channel("voltage0", False, ["label", "raw", "scale"]),
        ],
        attrs=["sampling_frequency"],
    )
    txdac = Device(
        id="iio:device2",
        name=TXDAC,
        channels=[
            Channel("voltage0", True, list(_DAC_CHN_ATTRS), scan_index=0, fmt=TX_FORMAT),
            Channel("voltage1", True, list(_DAC_CHN_ATTRS), scan_index=1, fmt=TX_FORMAT),
            Channel("altvoltage3", True, list(_DDS_ATTRS), name="TX1_Q_F2"),
            Channel("altvoltage1", True, list(_DDS_ATTRS), name="TX1_I_F2"),
            Channel("altvoltage0", True, list(_DDS_ATTRS), name="TX1_I_F1"),
            Channel("altvoltage2", True, list(_DDS_ATTRS), name="TX1_Q_F1"),
        ],
        debug_attrs=["direct_reg_access"],
        buffer_attrs=["data_available", "length_align_bytes"],
    )
    rxadc = Device(
        id="iio:device3",
        name=RXADC,
        channels=[
            Channel("voltage0", False, list(_ADC_CHN_ATTRS), scan_index=0, fmt=RX_FORMAT),
            Channel("voltage1", False, list(_ADC_CHN_ATTRS), scan_index=1, fmt=RX_FORMAT),
        ],
        debug_attrs=["pseudorandom_err_check", "direct_reg_access"],
        buffer_attrs=["data_available", "length_align_bytes", "watermark"],
    )
    return [phy, xadc, txdac, rxadc]


def _sysfs_name(dev: Device, chn: Channel, attr: str) -> str:
    """The sysfs file name of a channel attribute (``in_voltage0_hardwaregain``)."""
    direction = "out" if chn.output else "in"
    if chn.id == "out":
        return f"in_out_{attr}"
    if dev.name in (RXADC, TXDAC) and attr in (
        "sampling_frequency",
        "sampling_frequency_available",
    ):
        return f"{direction}_voltage_{attr}"
    return f"{direction}_{chn.id}_{attr}"


def context_xml(
    devices: list[Device],
    context_attrs: dict[str, str],
    *,
    description: str = "PSFL Pluto twin",
    version: tuple[int, int, str] = (0, 24, "psfltwn"),
) -> str:
    """Render the IIO context as iiod's ``PRINT`` XML (DTD included).

    Parameters
    ----------
    devices:
        Devices from :func:`build_pluto_devices`.
    context_attrs:
        ``<context-attribute>`` name → value pairs.
    description:
        Context description string.
    version:
        ``(major, minor, git_tag)`` written as ``version-*`` attributes; libiio reads the
        library version from here instead of sending ``VERSION``.

    Returns
    -------
    str
        The XML document (no trailing newline).
    """
    major, minor, git = version
    out = [
        _XML_DTD,
        f'<context name="network" version-major="{major}" version-minor="{minor}" '
        f"version-git={quoteattr(git)} description={quoteattr(description)} >",
    ]
    for k, v in context_attrs.items():
        out.append(f"<context-attribute name={quoteattr(k)} value={quoteattr(v)} />")
    for dev in devices:
        out.append(f"<device id={quoteattr(dev.id)} name={quoteattr(dev.name)} >")
        for chn in dev.channels:
            name = f" name={quoteattr(chn.name)}" if chn.name else ""
            kind = "output" if chn.output else "input"
            out.append(f'<channel id={quoteattr(chn.id)}{name} type="{kind}" >')
            if chn.is_scan_element:
                out.append(f'<scan-element index="{chn.scan_index}" format="{chn.fmt}" />')
            for a in chn.attrs:
                fname = _sysfs_name(dev, chn, a)
                out.append(f"<attribute name={quoteattr(a)} filename={quoteattr(fname)} />")
            out.append("</channel>")
        for a in dev.attrs:
            out.append(f"<attribute name={quoteattr(a)} />")
        for a in dev.debug_attrs:
            out.append(f"<debug-attribute name={quoteattr(a)} />")
        for a in dev.buffer_attrs:
            out.append(f"<buffer-attribute name={quoteattr(a)} />")
        out.append("</device>")
    out.append("</context>")
    return "".join(out)


def _parse_int(text: str) -> int:
    """Parse an integer the way the kernel's ``kstrtoll`` accepts it (floats truncated
    the way pyadi sends them, e.g. ``'2400000000.0'``, are rejected by the driver too)."""
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise AttrError(errno.EINVAL, f"not an integer: {text!r}") from None


def _parse_float(text: str) -> float:
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


def _parse_bool(text: str) -> int:
    """``'1'``/``'0'``/``'True'``/``'False'`` → 1/0 (kstrtobool semantics)."""
    t = text.strip().lower()
    if t in ("1", "y", "yes", "on", "true"):
        return 1
    if t in ("0", "n", "no", "off", "false"):
        return 0
    raise AttrError(errno.EINVAL, f"not a boolean: {text!r}")


class PlutoState:
    """Attribute store of the twin with AD9361-driver formatting and range checks.

    Thread-safe: every public method takes an internal lock, because the context
    connection (attributes) and the buffer connections run on different server threads.

    Parameters
    ----------
    ad9364:
        ``True`` for the widened LO range 70 MHz–6 GHz (Pluto configured as AD9364);
        ``False`` (default) for the stock AD9363 range 325 MHz–3.8 GHz.

    Notes
    -----
    Keys of :attr:`values` are ``(device name, scope, attribute)`` where scope is
    ``"dev"``, ``"debug"``, ``"buffer"``, or ``"in:<chn>"`` / ``"out:<chn>"``.
    Derived attributes (``tx_path_rates``, ``*_available``, ADC/DAC sampling rates) are
    computed on read.
    """

    def __init__(self, *, ad9364: bool = False) -> None:
        self.ad9364 = ad9364
        self.lo_range = LO_RANGE_AD9364 if ad9364 else LO_RANGE_AD9363
        self._lock = threading.RLock()
        self.values: dict[tuple[str, str, str], str] = {}
        self._init_defaults()

    # -- numeric views used by the signal path -------------------------------------------
    @property
    def rx_lo(self) -> int:
        """RX LO frequency in Hz."""
        return int(self.get(PHY, "out:altvoltage0", "frequency"))

    @property
    def tx_lo(self) -> int:
        """TX LO frequency in Hz."""
        return int(self.get(PHY, "out:altvoltage1", "frequency"))

    @property
    def sample_rate(self) -> int:
        """Baseband sample rate in samples/s (shared by RX and TX)."""
        return int(self.get(PHY, "in:voltage0", "sampling_frequency"))

    @property
    def tx_gain_db(self) -> float:
        """TX hardwaregain (attenuation, ≤ 0) in dB."""
        return float(self.get(PHY, "out:voltage0", "hardwaregain"))

    @property
    def rx_gain_db(self) -> float:
        """RX hardwaregain in dB (manual value, or the AGC's last choice)."""
        return float(self.get(PHY, "in:voltage0", "hardwaregain"))

    @property
    def gain_control_mode(self) -> str:
        """RX gain control mode: manual, fast_attack, slow_attack or hybrid."""
        return self.get(PHY, "in:voltage0", "gain_control_mode")

    @property
    def loopback_mode(self) -> int:
        """The ``loopback`` debug attribute: 0 off, 1 digital (TX→RX in the FPGA), 2 RF."""
        return int(self.get(PHY, "debug", "loopback"))

    def set_agc_gain(self, gain_db: float) -> None:
        """Record the gain an AGC mode settled on (readable as RX hardwaregain)."""
        lo, hi = RX_GAIN_RANGE
        with self._lock:
            self.values[(PHY, "in:voltage0", "hardwaregain")] = repr(
                float(min(max(gain_db, lo), hi))
            )

    # -- raw store ----------------------------------------------------------------------
    def get(self, dev: str, scope: str, attr: str) -> str:
        """Stored (unformatted) value; ``KeyError`` if never set."""
        with self._lock:
            return self.values[(dev, scope, attr)]

    def _init_defaults(self) -> None:
        v = self.values
        for lo_chn, freq in (("altvoltage0", 2_400_000_000), ("altvoltage1", 2_450_000_000)):
            s = f"out:{lo_chn}"
            v[(PHY, s, "frequency")] = str(freq)
            v[(PHY, s, "external")] = "0"
            v[(PHY, s, "powerdown")] = "0"
            for a in ("fastlock_load", "fastlock_recall", "fastlock_save", "fastlock_store"):
                v[(PHY, s, a)] = "0"
        rx, tx = "in:voltage0", "out:voltage0"
        v[(PHY, rx, "sampling_frequency")] = "30720000"
        v[(PHY, rx, "rf_bandwidth")] = "18000000"
        v[(PHY, tx, "rf_bandwidth")] = "18000000"
        v[(PHY, rx, "hardwaregain")] = "71.0"
        v[(PHY, tx, "hardwaregain")] = "-10.0"
        v[(PHY, rx, "gain_control_mode")] = "slow_attack"
        v[(PHY, rx, "rf_port_select")] = "A_BALANCED"
        v[(PHY, tx, "rf_port_select")] = "A"
        for s in (rx, tx):
            v[(PHY, s, "filter_fir_en")] = "0"
        for a in ("bb_dc_offset_tracking_en", "quadrature_tracking_en", "rf_dc_offset_tracking_en"):
            v[(PHY, rx, a)] = "1"
        v[(PHY, "in:out", "voltage_filter_fir_en")] = "0"
        v[(PHY, "dev", "filter_fir_config")] = "FIR Rx: 0,0 Tx: 0,0"
        v[(PHY, "dev", "ensm_mode")] = "fdd"
        v[(PHY, "dev", "calib_mode")] = "auto"
        v[(PHY, "dev", "trx_rate_governor")] = "nominal"
        v[(PHY, "dev", "xo_correction")] = "40000000"
        v[(PHY, "dev", "dcxo_tune_coarse")] = "0"
        v[(PHY, "dev", "dcxo_tune_fine")] = "0"
        v[(PHY, "dev", "multichip_sync")] = "0"
        v[(PHY, "dev", "gain_table_config")] = (
            "<gaintable AD9361 type=FULL dest=3 start=1300000000 end=4000000000>"
        )
        v[(PHY, "dev", "rssi_gain_step_error")] = (
            "lna_error: 0 0 0 0\nmixer_error: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\ngain_step_calib_reg_val: 0 0 0 0 0"
        )
        for a in _PHY_DEBUG_ATTRS:
            v[(PHY, "debug", a)] = "0"
        v[(PHY, "in:voltage2", "raw")] = "0"
        v[(PHY, "in:voltage2", "offset")] = "0"
        v[(PHY, "in:voltage2", "scale")] = "1.000000"
        v[(PHY, "in:temp0", "input")] = "35000"
        for c in ("voltage2", "voltage3"):
            v[(PHY, f"out:{c}", "raw")] = "0"
            v[(PHY, f"out:{c}", "scale")] = "1.000000"
        v[("xadc", "dev", "sampling_frequency")] = "961538"
        for c, raw in (("voltage5", "1700"), ("temp0", "2600"), ("voltage0", "1360")):
            v[("xadc", f"in:{c}", "raw")] = raw
            v[("xadc", f"in:{c}", "scale")] = "0.244140625" if c != "temp0" else "123.040771484"
        v[("xadc", "in:temp0", "offset")] = "-2219"
        v[("xadc", "in:voltage5", "label")] = "vccoddr"
        v[("xadc", "in:voltage0", "label")] = "vccint"
        for c in ("voltage0", "voltage1"):
            for a, d in (
                ("calibbias", "0"),
                ("calibphase", "0.000000"),
                ("calibscale", "1.000000"),
                ("samples_pps", "0"),
            ):
                v[(RXADC, f"in:{c}", a)] = d
            for a, d in (("calibphase", "0.000000"), ("calibscale", "1.000000")):
                v[(TXDAC, f"out:{c}", a)] = d
        for i in range(4):
            s = f"out:altvoltage{i}"
            v[(TXDAC, s, "frequency")] = "9279985"
            v[(TXDAC, s, "phase")] = "90000" if i >= 2 else "0"
            v[(TXDAC, s, "raw")] = "1"
            v[(TXDAC, s, "scale")] = "0.500000"
        for d in (RXADC, TXDAC):
            v[(d, "debug", "direct_reg_access")] = "0x0"
            v[(d, "buffer", "data_available")] = "0"
            v[(d, "buffer", "length_align_bytes")] = "8"
        v[(RXADC, "buffer", "watermark")] = "2048"
        v[(RXADC, "debug", "pseudorandom_err_check")] = (
            "CH0 : PN9 : Out of Sync : PN Error\nCH1 : PN9 : Out of Sync : PN Error"
        )

    # -- formatted reads ----------------------------------------------------------------
    def read(self, dev: str, scope: str, attr: str) -> str:
        """Attribute value as the driver prints it.

        Parameters
        ----------
        dev:
            Device name (``ad9361-phy``).
        scope:
            ``"dev"``, ``"debug"``, ``"buffer"``, ``"in:<chn id>"`` or ``"out:<chn id>"``.
        attr:
            Attribute name.

        Returns
        -------
        str
            The text iiod would send (no trailing newline).

        Raises
        ------
        AttrError
            ``ENOENT`` for an unknown attribute.
        """
        with self._lock:
            derived = self._derived(dev, scope, attr)
            if derived is not None:
                return derived
            try:
                raw = self.values[(dev, scope, attr)]
            except KeyError:
                raise AttrError(errno.ENOENT, f"no attribute {dev}/{scope}/{attr}") from None
            if dev == PHY and attr == "hardwaregain":
                return f"{float(raw):.6f} dB"
            return raw

    def _derived(self, dev: str, scope: str, attr: str) -> str | None:
        fs = int(self.values[(PHY, "in:voltage0", "sampling_frequency")])
        if dev == PHY:
            if attr == "sampling_frequency" and scope in ("in:voltage0", "out:voltage0"):
                return str(fs)
            if attr == "frequency_available":
                lo, hi = self.lo_range
                return f"[{lo} 1 {hi}]"
            if attr == "sampling_frequency_available":
                return f"[{SAMPLE_RATE_RANGE[0]} 1 {SAMPLE_RATE_RANGE[1]}]"
            if attr == "rf_bandwidth_available":
                lo, hi = RX_RF_BW_RANGE if scope.startswith("in:") else TX_RF_BW_RANGE
                return f"[{lo} 1 {hi}]"
            if attr == "hardwaregain_available":
                if scope.startswith("in:"):
                    return f"[{RX_GAIN_RANGE[0]} 1 {RX_GAIN_RANGE[1]}]"
                return "[-89.750000 0.250000 0.000000]"
            if attr == "gain_control_mode_available":
                return " ".join(GAIN_MODES)
            if attr == "rf_port_select_available":
                return " ".join(RX_PORTS if scope.startswith("in:") else TX_PORTS)
            if attr == "ensm_mode_available":
                return " ".join(ENSM_MODES)
            if attr == "calib_mode_available":
                return "auto manual manual_tx_quad tx_quad rf_dc_offs rssi_gain_step"
            if attr == "trx_rate_governor_available":
                return "nominal highest_osr"
            if attr == "xo_correction_available":
                return "[39992000 1 40008000]"
            if attr == "dcxo_tune_coarse_available" or attr == "dcxo_tune_fine_available":
                return "[0 0 0]"
            if attr == "rssi":
                return "0.00 dB" if scope.startswith("out:") else "100.25 dB"
            if attr == "tx_path_rates":
                # Ratios as the driver picks them with pyadi's x4 FIR: DAC = 8·fs.
                return (
                    f"BBPLL:{min(fs * 32, 1_433_600_000)} DAC:{fs * 8} T2:{fs * 4} "
                    f"T1:{fs * 2} TF:{fs} TXSAMP:{fs}"
                )
            if attr == "rx_path_rates":
                return (
                    f"BBPLL:{min(fs * 32, 1_433_600_000)} ADC:{fs * 8} R2:{fs * 4} "
                    f"R1:{fs * 2} RF:{fs} RXSAMP:{fs}"
                )
        if dev in (RXADC, TXDAC):
            if attr == "sampling_frequency":
                return str(fs)
            if attr == "sampling_frequency_available":
                return f"{fs} {fs // 8}"
        return None

    # -- validated writes ---------------------------------------------------------------
    def write(self, dev: str, scope: str, attr: str, text: str) -> None:
        """Store a value after the driver's checks.

        Parameters
        ----------
        dev, scope, attr:
            As in :meth:`read`.
        text:
            The written value, already stripped of the NUL/newline libiio appends.

        Raises
        ------
        AttrError
            ``EINVAL`` for a malformed or out-of-range value, ``EACCES`` for a
            read-only attribute, ``ENOENT`` for an unknown attribute.
        """
        with self._lock:
            self._write_locked(dev, scope, attr, text)

    def _write_locked(self, dev: str, scope: str, attr: str, text: str) -> None:
        v = self.values
        key = (dev, scope, attr)
        if attr.endswith("_available") or attr in (
            "rssi",
            "tx_path_rates",
            "rx_path_rates",
            "input",
        ):
            raise AttrError(errno.EACCES, f"{attr} is read-only")
        if dev == PHY:
            if attr == "frequency" and scope in ("out:altvoltage0", "out:altvoltage1"):
                f = _parse_int(text)
                lo, hi = self.lo_range
                if not lo <= f <= hi:
                    raise AttrError(errno.EINVAL, f"LO {f} Hz outside [{lo}, {hi}]")
                v[key] = str(f)
                return
            if attr == "sampling_frequency" and scope in ("in:voltage0", "out:voltage0"):
                fs = _parse_int(text)
                lo, hi = SAMPLE_RATE_RANGE
                if not lo <= fs <= hi:
                    raise AttrError(errno.EINVAL, f"sample rate {fs} outside [{lo}, {hi}]")
                v[(PHY, "in:voltage0", "sampling_frequency")] = str(fs)
                return
            if attr == "rf_bandwidth":
                bw = _parse_int(text)
                lo, hi = RX_RF_BW_RANGE if scope == "in:voltage0" else TX_RF_BW_RANGE
                if not lo <= bw <= hi:
                    raise AttrError(errno.EINVAL, f"rf_bandwidth {bw} outside [{lo}, {hi}]")
                v[key] = str(bw)
                return
            if attr == "hardwaregain" and scope == "out:voltage0":
                g = _parse_float(text)
                if not TX_GAIN_RANGE[0] <= g <= TX_GAIN_RANGE[1]:
                    raise AttrError(errno.EINVAL, f"TX gain {g} dB outside {TX_GAIN_RANGE}")
                v[key] = repr(round(g * 4) / 4)  # 0.25 dB steps
                return
            if attr == "hardwaregain" and scope == "in:voltage0":
                g = _parse_float(text)
                if v[(PHY, "in:voltage0", "gain_control_mode")] != "manual":
                    # The driver refuses manual gain while an AGC owns the gain.
                    raise AttrError(errno.EINVAL, "RX gain is only writable in manual mode")
                if not RX_GAIN_RANGE[0] <= g <= RX_GAIN_RANGE[1]:
                    raise AttrError(errno.EINVAL, f"RX gain {g} dB outside {RX_GAIN_RANGE}")
                v[key] = repr(float(round(g)))  # 1 dB steps
                return
            if attr == "gain_control_mode":
                mode = text.strip()
                if mode not in GAIN_MODES:
                    raise AttrError(errno.EINVAL, f"unknown gain mode {mode!r}")
                v[key] = mode
                return
            if attr == "rf_port_select":
                port = text.strip()
                if port not in (RX_PORTS if scope.startswith("in:") else TX_PORTS):
                    raise AttrError(errno.EINVAL, f"unknown port {port!r}")
                v[key] = port
                return
            if attr == "ensm_mode":
                m = text.strip()
                if m not in ENSM_MODES:
                    raise AttrError(errno.EINVAL, f"unknown ENSM mode {m!r}")
                v[key] = m
                return
            if attr in (
                "voltage_filter_fir_en",
                "filter_fir_en",
                "external",
                "powerdown",
                "bb_dc_offset_tracking_en",
                "quadrature_tracking_en",
                "rf_dc_offset_tracking_en",
            ):
                v[key] = str(_parse_bool(text))
                return
            if attr == "filter_fir_config":
                v[key] = _fir_summary(text)
                return
            if attr == "loopback" and scope == "debug":
                mode = _parse_int(text)
                if mode not in (0, 1, 2):
                    raise AttrError(errno.EINVAL, f"loopback mode {mode} not in 0,1,2")
                v[key] = str(mode)
                return
        if dev == TXDAC and attr in ("raw", "frequency", "phase", "scale"):
            if attr == "scale":
                s = _parse_float(text)
                if not 0.0 <= s <= 1.0:
                    raise AttrError(errno.EINVAL, f"DDS scale {s} outside [0, 1]")
                v[key] = f"{s:.6f}"
            elif attr == "raw":
                v[key] = str(_parse_bool(text) if text.strip() in ("0", "1") else _parse_int(text))
            else:
                v[key] = str(_parse_int(text))
            return
        if key not in v and self._derived(dev, scope, attr) is None:
            raise AttrError(errno.ENOENT, f"no attribute {dev}/{scope}/{attr}")
        if self._derived(dev, scope, attr) is not None:
            raise AttrError(errno.EACCES, f"{attr} is read-only here")
        v[key] = text.strip()


def _fir_summary(text: str) -> str:
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
