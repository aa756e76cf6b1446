"""The attribute store of a Pluto twin: values kept, printed and checked as the driver does.

:class:`PlutoState` holds the stored value of every attribute and applies the tables of
:mod:`psfl.hil.pluto_rules` on each access: reads return derived values or the stored
value in the driver's print format; writes go through the attribute's :class:`Rule`
(range, choices, quantisation, shared key). Pure Python; the twin's server threads share
one instance.
"""

from __future__ import annotations

import errno
import re
import threading
from collections.abc import Callable

from psfl.hil.pluto_model import PHY, TXDAC, build_pluto_devices, shared_scope
from psfl.hil.pluto_regs import RegisterError, Registers
from psfl.hil.pluto_rules import (
    DEFAULTS,
    DERIVED,
    LO_RANGE_AD9363,
    LO_RANGE_AD9364,
    READ_ERRORS,
    READ_FORMAT,
    TX_LO_MIN_AD9364,
    WRITE_RULES,
    AttrError,
    is_read_only,
    lookup,
)
from psfl.hil.pluto_tables import rx_gain_range

__all__ = ["AttrError", "PlutoState"]


class PlutoState:
    """Attribute store of the twin with AD9361-driver formatting and range checks.

    Thread-safe: every public method takes an internal lock, because the context
    connection (attributes) and the buffer connections run on different server threads.

    Parameters
    ----------
    ad9364:
        ``True`` for the widened LO range 70 MHz–6 GHz, TX from 46.875 MHz (Pluto configured
        as AD9364);
        ``False`` (default) for the stock AD9363 range 325 MHz–3.8 GHz.

    Notes
    -----
    Keys of :attr:`values` are ``(device name, scope, attribute)`` where scope is
    ``"dev"``, ``"debug"``, ``"buffer"``, or ``"in:<chn>"`` / ``"out:<chn>"``.
    Derived attributes (``tx_path_rates``, ``*_available``, ADC/DAC sampling rates) are
    computed on read (:data:`psfl.hil.pluto_rules.DERIVED`).
    """

    def __init__(self, *, ad9364: bool = False) -> None:
        self.ad9364 = ad9364
        self.rx_lo_range = LO_RANGE_AD9364 if ad9364 else LO_RANGE_AD9363
        self.tx_lo_range = (TX_LO_MIN_AD9364, LO_RANGE_AD9364[1]) if ad9364 else LO_RANGE_AD9363
        self.lo_range = self.rx_lo_range  # the RX LO's; kept for callers of the old name
        self._lock = threading.RLock()
        #: What ``in_voltage0_rssi`` reads (set by the twin's front end); ``None``: the
        #: receiver's floor is unknown and RSSI reads the top of its range.
        self.rssi_probe: Callable[[], float] | None = None
        #: The devices' register windows (``direct_reg_access``).
        self.registers = Registers()
        #: Called before a register read, so that status bits that hardware latches on its
        #: own (overflow, underflow) are up to date; set by the twin's server.
        self.register_refresh: Callable[[], None] | None = None
        self._devices = {d.name: d for d in build_pluto_devices()}
        self.values: dict[tuple[str, str, str], str] = {
            (dev, scope, attr): value
            for (dev, scope), attrs in DEFAULTS.items()
            for attr, value in attrs.items()
        }

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
        """RX hardwaregain in dB (manual value, or the AGC's last choice), within the gain
        table of the current RX LO band."""
        lo, hi = self.rx_gain_range
        return min(max(float(self.get(PHY, "in:voltage0", "hardwaregain")), lo), hi)

    @property
    def rx_gain_range(self) -> tuple[int, int]:
        """RX hardwaregain range [dB] of the gain table the RX LO selects."""
        return rx_gain_range(self.rx_lo)

    @property
    def rx_rf_bandwidth(self) -> int:
        """RX analog filter bandwidth [Hz]."""
        return int(self.get(PHY, "in:voltage0", "rf_bandwidth"))

    @property
    def rssi_db(self) -> float:
        """RX1 RSSI [dB] as the driver reports it (larger is weaker)."""
        return 127.75 if self.rssi_probe is None else self.rssi_probe()

    @property
    def fir_decimation(self) -> int:
        """Decimation of the RX FIR when it is enabled (``filter_fir_config``), else 1."""
        on = self.fir_enabled[0] == 1
        m = re.match(r"FIR Rx: (\d+),(\d+)", self.get(PHY, "dev", "filter_fir_config"))
        if not on or m is None or int(m.group(1)) == 0:
            return 1
        return max(int(m.group(2)), 1)

    @property
    def fir_enabled(self) -> tuple[int, int]:
        """Whether the RX and the TX FIR are on (``in_voltage_filter_fir_en``, ``out_…``)."""
        return (
            int(self.get(PHY, "in:voltage0", "filter_fir_en")),
            int(self.get(PHY, "out:voltage0", "filter_fir_en")),
        )

    @property
    def rate_governor(self) -> str:
        """``trx_rate_governor``: nominal or highest_osr."""
        return self.get(PHY, "dev", "trx_rate_governor")

    @property
    def xo_hz(self) -> int:
        """Crystal frequency the clocks are derived from (``xo_correction``)."""
        return int(self.get(PHY, "dev", "xo_correction"))

    @property
    def dds_enabled(self) -> bool:
        """The TX core's DDS enable (``raw`` of any DDS channel)."""
        return self.get(TXDAC, "dds", "raw") == "1"

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
        lo, hi = self.rx_gain_range
        with self._lock:
            self.values[(PHY, "in:voltage0", "hardwaregain")] = repr(
                float(min(max(gain_db, lo), hi))
            )

    # -- raw store ----------------------------------------------------------------------
    def get(self, dev: str, scope: str, attr: str) -> str:
        """Stored (unformatted) value; ``KeyError`` if never set."""
        with self._lock:
            return self.values[(dev, scope, attr)]

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
        if attr == "direct_reg_access":
            if self.register_refresh is not None:
                self.register_refresh()
            try:
                return self.registers.read(dev)
            except RegisterError as e:
                raise AttrError(e.code, str(e)) from None
        with self._lock:
            scope = shared_scope(self._devices, dev, scope, attr)
            code = READ_ERRORS.get((dev, scope, attr))
            if code is not None:
                raise AttrError(code, f"{dev}/{scope}/{attr} cannot be read")
            derived = self._derived(dev, scope, attr)
            if derived is not None:
                return derived
            try:
                raw = self.values[(dev, scope, attr)]
            except KeyError:
                raise AttrError(errno.ENOENT, f"no attribute {dev}/{scope}/{attr}") from None
            fmt = lookup(READ_FORMAT, dev, scope, attr)
            return raw if fmt is None else fmt(raw, self)

    def _derived(self, dev: str, scope: str, attr: str) -> str | None:
        rule = lookup(DERIVED, dev, scope, attr)
        if rule is None or isinstance(rule, str):
            return rule
        return rule(self)

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
        if attr == "direct_reg_access":
            try:
                self.registers.command(dev, text)
            except RegisterError as e:
                raise AttrError(e.code, str(e)) from None
            return
        with self._lock:
            self._write_locked(dev, shared_scope(self._devices, dev, scope, attr), attr, text)

    def _write_locked(self, dev: str, scope: str, attr: str, text: str) -> None:
        if is_read_only(attr):
            raise AttrError(errno.EACCES, f"{attr} is read-only")
        rule = lookup(WRITE_RULES, dev, scope, attr)
        if rule is not None:
            stored = rule.accept(text, self)
            for target_scope, target_attr in rule.targets or ((rule.store_scope or scope, attr),):
                self.values[(dev, target_scope, target_attr)] = stored
            return
        # No rule: a plain stored attribute takes the text as written; one computed on
        # read cannot be written, and one that does not exist is not there.
        derived = self._derived(dev, scope, attr) is not None
        if (dev, scope, attr) not in self.values and not derived:
            raise AttrError(errno.ENOENT, f"no attribute {dev}/{scope}/{attr}")
        if derived:
            raise AttrError(errno.EACCES, f"{attr} is read-only here")
        self.values[(dev, scope, attr)] = text.strip()
