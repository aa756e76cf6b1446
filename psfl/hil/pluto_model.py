"""Device tree of an ADALM-Pluto as seen through libiio: devices, channels, attribute names.

This module describes the IIO context a Pluto (AD9363 in 1R1T mode, default firmware)
exposes and renders it as the XML document that ``iiod`` sends in answer to ``PRINT``.
What the attributes hold and which writes the driver accepts is
:mod:`psfl.hil.pluto_rules` (the rules as tables) and :mod:`psfl.hil.pluto_state` (the
store); :mod:`psfl.hil.twin` serves all three over TCP. Pure Python: no numpy, no sockets.

Devices (ids, channel order, attribute names and sysfs file names as a real Rev.C Pluto's
context description lists them: pyadi-iio ``test/emu/devices/pluto.xml``):

- ``iio:device0`` ``ad9361-phy`` — the transceiver control device: ``altvoltage0`` (RX_LO)
  and ``altvoltage1`` (TX_LO) frequencies, ``voltage0`` input/output (sampling_frequency,
  rf_bandwidth, hardwaregain, gain_control_mode, rf_port_select …), ``voltage2``/``3``
  (aux ADC/DACs, which also show the shared ``in_voltage_*``/``out_voltage_*`` files), the
  ``out`` input channel holding ``voltage_filter_fir_en``, device attributes such as
  ``filter_fir_config`` and ``tx_path_rates``, and debug attributes: the driver's own
  (``loopback``, ``gaininfo_rx1`` …), the 167 ``adi,*`` platform settings and
  ``direct_reg_access``.
- ``iio:device1`` ``xadc`` — the FPGA's temperature/supply monitor, 10 channels (read-only).
- ``iio:device2`` ``cf-ad9361-dds-core-lpc`` — the TX DMA/DAC core: scan channels
  ``voltage0``/``voltage1`` (I/Q, ``le:S16/16>>0``; the DAC uses the 12 MSBs) and the four
  DDS tone channels ``altvoltage0..3`` (:mod:`psfl.hil.twin.dds`).
- ``iio:device3`` ``cf-ad9361-lpc`` — the RX DMA/ADC core: scan channels
  ``voltage0``/``voltage1`` (I/Q, ``le:S12/16>>0``, sign-extended 12-bit samples).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from psfl.hil.pluto_adi_debug import ADI_DEBUG_DEFAULTS

__all__ = [
    "PHY",
    "PHY_DEBUG_ATTRS",
    "RXADC",
    "SHARED_HOME",
    "TXDAC",
    "Channel",
    "Device",
    "XADC_CHANNELS",
    "build_pluto_devices",
    "context_xml",
    "shared_scope",
]

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
    shared:
        Attributes one sysfs file serves for every channel of this type and direction
        (``in_voltage_rf_bandwidth``): one value, whichever channel is addressed.
    """

    id: str
    output: bool
    attrs: list[str]
    name: str | None = None
    scan_index: int | None = None
    fmt: str | None = None
    shared: frozenset[str] = frozenset()

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


# The attribute tree of a real Pluto, from its context description (pyadi-iio
# test/emu/devices/pluto.xml): channels in iiod's order, attributes alphabetical, each
# either the channel's own (in_voltage0_hardwaregain) or shared by every channel of its
# type and direction (in_voltage_rf_bandwidth).
_LO_ATTRS = (
    "external", "fastlock_load", "fastlock_recall", "fastlock_save", "fastlock_store",
    "frequency", "frequency_available", "powerdown",
)
_PHY_IN_SHARED = frozenset({
    "bb_dc_offset_tracking_en", "filter_fir_en", "gain_control_mode_available",
    "quadrature_tracking_en", "rf_bandwidth", "rf_bandwidth_available",
    "rf_dc_offset_tracking_en", "rf_port_select_available", "sampling_frequency",
    "sampling_frequency_available",
})
_PHY_OUT_SHARED = frozenset({
    "filter_fir_en", "rf_bandwidth", "rf_bandwidth_available", "rf_port_select_available",
    "sampling_frequency", "sampling_frequency_available",
})
_PHY_DEV_ATTRS = [
    "calib_mode", "calib_mode_available", "dcxo_tune_coarse", "dcxo_tune_coarse_available",
    "dcxo_tune_fine", "dcxo_tune_fine_available", "ensm_mode", "ensm_mode_available",
    "filter_fir_config", "gain_table_config", "multichip_sync", "rssi_gain_step_error",
    "rx_path_rates", "trx_rate_governor", "trx_rate_governor_available", "tx_path_rates",
    "xo_correction", "xo_correction_available",
]
#: The phy's debug attributes in iiod's order: the driver's own, the 167 ``adi,*``
#: platform settings (:mod:`psfl.hil.pluto_adi_debug`), then the register window.
PHY_DEBUG_ATTRS = [
    "digital_tune", "calibration_switch_control", "multichip_sync", "gaininfo_rx2",
    "gaininfo_rx1", "bist_timing_analysis", "gpo_set", "bist_tone", "bist_prbs", "loopback",
    "initialize", *ADI_DEBUG_DEFAULTS, "direct_reg_access",
]
_ADC_CHN = ("calibbias", "calibphase", "calibscale")
_DMA_SHARED_IN = frozenset({"samples_pps", "sampling_frequency", "sampling_frequency_available"})
_DMA_SHARED_OUT = frozenset({"sampling_frequency", "sampling_frequency_available"})
_DDS_ATTRS = ("frequency", "phase", "raw", "scale")
#: xadc channels (id, label) in iiod's order; supplies read raw and scale, temp0 also offset.
XADC_CHANNELS: tuple[tuple[str, str | None], ...] = (
    ("voltage5", "vccoddr"), ("voltage0", "vccint"), ("voltage4", "vccpaux"), ("temp0", None),
    ("voltage7", "vrefn"), ("voltage1", "vccaux"), ("voltage2", "vccbram"),
    ("voltage3", "vccpint"), ("voltage8", None), ("voltage6", "vrefp"),
)

RX_FORMAT = "le:S12/16>>0"
TX_FORMAT = "le:S16/16>>0"
PHY = "ad9361-phy"
RXADC = "cf-ad9361-lpc"
TXDAC = "cf-ad9361-dds-core-lpc"


def _chn(
    cid: str, output: bool, own: tuple[str, ...], shared: frozenset[str] = frozenset(),
    name: str | None = None, scan_index: int | None = None, fmt: str | None = None,
) -> Channel:
    """A channel whose attribute list is its own and its shared ones, alphabetically."""
    return Channel(cid, output, sorted({*own, *shared}), name=name, scan_index=scan_index,
                   fmt=fmt, shared=shared)


def build_pluto_devices() -> list[Device]:
    """The four IIO devices of a Pluto in 1R1T mode, channels in iiod's order.

    Returns
    -------
    list[Device]
        ``ad9361-phy``, ``xadc``, ``cf-ad9361-dds-core-lpc``, ``cf-ad9361-lpc``.
    """
    rx_own = ("gain_control_mode", "hardwaregain", "hardwaregain_available", "rf_port_select", "rssi")
    tx_own = ("hardwaregain", "hardwaregain_available", "rf_port_select", "rssi")
    phy = Device(
        id="iio:device0",
        name=PHY,
        channels=[
            _chn("altvoltage1", True, _LO_ATTRS, name="TX_LO"),
            _chn("voltage0", False, rx_own, _PHY_IN_SHARED),
            _chn("voltage3", True, ("raw", "scale"), _PHY_OUT_SHARED),
            _chn("altvoltage0", True, _LO_ATTRS, name="RX_LO"),
            _chn("voltage2", True, ("raw", "scale"), _PHY_OUT_SHARED),
            _chn("temp0", False, ("input",)),
            _chn("voltage0", True, tx_own, _PHY_OUT_SHARED),
            _chn("voltage2", False, ("offset", "raw", "scale"), _PHY_IN_SHARED),
            _chn("out", False, ("voltage_filter_fir_en",)),
        ],
        attrs=list(_PHY_DEV_ATTRS),
        debug_attrs=list(PHY_DEBUG_ATTRS),
    )
    xadc = Device(
        id="iio:device1",
        name="xadc",
        channels=[
            _chn(cid, False, ("offset", "raw", "scale") if cid == "temp0" else ("raw", "scale"),
                 name=label)
            for cid, label in XADC_CHANNELS
        ],
        attrs=["sampling_frequency"],
    )
    txdac = Device(
        id="iio:device2",
        name=TXDAC,
        channels=[
            _chn("voltage0", True, ("calibphase", "calibscale"), _DMA_SHARED_OUT,
                 scan_index=0, fmt=TX_FORMAT),
            _chn("voltage1", True, ("calibphase", "calibscale"), _DMA_SHARED_OUT,
                 scan_index=1, fmt=TX_FORMAT),
            _chn("altvoltage3", True, _DDS_ATTRS, frozenset({"sampling_frequency"}), "TX1_Q_F2"),
            _chn("altvoltage1", True, _DDS_ATTRS, frozenset({"sampling_frequency"}), "TX1_I_F2"),
            _chn("altvoltage0", True, _DDS_ATTRS, frozenset({"sampling_frequency"}), "TX1_I_F1"),
            _chn("altvoltage2", True, _DDS_ATTRS, frozenset({"sampling_frequency"}), "TX1_Q_F1"),
        ],
        debug_attrs=["direct_reg_access"],
        buffer_attrs=["data_available", "length_align_bytes", "watermark"],
    )
    rxadc = Device(
        id="iio:device3",
        name=RXADC,
        channels=[
            _chn("voltage0", False, _ADC_CHN, _DMA_SHARED_IN, scan_index=0, fmt=RX_FORMAT),
            _chn("voltage1", False, _ADC_CHN, _DMA_SHARED_IN, scan_index=1, fmt=RX_FORMAT),
        ],
        debug_attrs=["pseudorandom_err_check", "direct_reg_access"],
        buffer_attrs=["data_available", "length_align_bytes", "watermark"],
    )
    return [phy, xadc, txdac, rxadc]


def _sysfs_name(chn: Channel, attr: str) -> str:
    """The sysfs file name of a channel attribute: ``in_voltage0_hardwaregain``,
    ``out_altvoltage1_TX_LO_frequency``, or for a shared one ``in_voltage_rf_bandwidth``."""
    direction = "out" if chn.output else "in"
    if attr in chn.shared:
        return f"{direction}_{chn.id.rstrip('0123456789')}_{attr}"
    label = f"_{chn.name}" if chn.name else ""
    return f"{direction}_{chn.id}{label}_{attr}"


#: Where a shared attribute's one value lives: (device, direction) → channel scope.
SHARED_HOME: dict[tuple[str, str], str] = {
    (PHY, "in"): "in:voltage0",
    (PHY, "out"): "out:voltage0",
    (RXADC, "in"): "in:voltage0",
    (TXDAC, "out"): "out:voltage0",
}


def shared_scope(devices: dict[str, Device], dev: str, scope: str, attr: str) -> str:
    """The scope a value is stored under: a shared attribute's home channel, else ``scope``."""
    d = devices.get(dev)
    if d is None or ":" not in scope:
        return scope
    direction, cid = scope.split(":", 1)
    for c in d.channels:
        if c.id == cid and c.output == (direction == "out") and attr in c.shared:
            return SHARED_HOME.get((dev, direction), scope)
    return scope


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
                fname = _sysfs_name(chn, a)
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
