"""Register windows of a Pluto (``direct_reg_access``), as libiio's ``reg_read``/``reg_write``
reach them.

Each device's ``direct_reg_access`` debug attribute is the kernel's IIO register window:
writing ``"<addr>"`` selects a register, writing ``"<addr> <value>"`` writes one, reading
prints the selected register as ``0x%X`` (libiio's ``iio_device_reg_read`` writes the
address, then reads). Addresses of the ``ad9361-phy`` are the AD9361's SPI registers
(0x000–0x3FF). The HDL cores (``cf-ad9361-lpc``, ``cf-ad9361-dds-core-lpc``) decode an
address with bit 31 set as one of their own registers (offset in the low 16 bits) and pass
any other address to the AD9361 behind them.

:data:`REGISTERS` holds the power-up values of the registers clients touch; every other
register reads 0 until written. The cores' DMA status register (0x88) latches the RX
overflow (bit 2) and TX underflow (bit 0) and is cleared by writing 1s, as pyadi-iio's
hardware tests use it (``test/dma_tests.py``: ``reg_write(0x80000088, 0x6)`` clears,
``reg_read(0x80000088) & 4`` is an overflow, ``& 1`` an underflow). Pure Python.
"""

from __future__ import annotations

import errno
import re
import threading

from psfl.hil.pluto_model import PHY, RXADC, TXDAC

__all__ = [
    "CORE",
    "DMA_STATUS",
    "OVERFLOW",
    "REGISTERS",
    "UNDERFLOW",
    "RegisterError",
    "Registers",
]

CORE = 0x8000_0000  # bit 31: a register of the HDL core, not of the AD9361
DMA_STATUS = 0x88
OVERFLOW = 0x4  # RX: the DMA did not keep up with the ADC
UNDERFLOW = 0x1  # TX: the DAC ran out of samples
_SPI_MAX = 0x3FF
_CORE_MAX = 0xFFFF

#: ``(space, address)`` → power-up value; space ``"spi"`` is the AD9361, a core's name its
#: own registers. SPI 0x037 is the product ID (the driver checks bits 7:3 = 0x08; bits 2:0
#: are the silicon revision, 2 here: *ours*). Core 0x0000 is the version register: the
#: dump's DDS core reads 0x90162 (ADI HDL core version 9.1.b); 0x0004 the core ID, 0x0008
#: the scratch register tests write and read back.
REGISTERS: dict[tuple[str, int], int] = {
    ("spi", 0x000): 0x00,
    ("spi", 0x037): 0x0A,
    (RXADC, 0x0000): 0x0009_0162,
    (TXDAC, 0x0000): 0x0009_0162,
    (RXADC, 0x0004): 0x0,
    (TXDAC, 0x0004): 0x0,
    (RXADC, 0x0008): 0x0,
    (TXDAC, 0x0008): 0x0,
    (RXADC, DMA_STATUS): 0x0,
    (TXDAC, DMA_STATUS): 0x0,
}

#: Register selected at power-up per device, as the dump's reads imply (the DDS core's
#: window reads its version register 0x90162, the others read SPI register 0).
_SELECTED = {PHY: 0x0, RXADC: 0x0, TXDAC: CORE | 0x0000}
_WRITE_ONE_TO_CLEAR = {(RXADC, DMA_STATUS), (TXDAC, DMA_STATUS)}
_NUMBER = r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)"
_COMMAND = re.compile(rf"\s*{_NUMBER}(?:\s+{_NUMBER})?\s*")


class RegisterError(Exception):
    """A register access the driver refuses; ``code`` is the errno."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Registers:
    """The register windows of the twin's devices; thread-safe.

    Input
    -----
    :meth:`command` — the text written to ``direct_reg_access``.

    Output
    ------
    :meth:`read` — the selected register as the kernel prints it (``"0x90162"``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict(REGISTERS)
        self._selected = dict(_SELECTED)

    def _space(self, dev: str, addr: int) -> tuple[str, int]:
        """Where an address of ``dev``'s window lands, or :class:`RegisterError`."""
        if dev in (RXADC, TXDAC) and addr & CORE:
            if addr & ~CORE > _CORE_MAX:
                raise RegisterError(errno.EINVAL, f"core register {addr:#x} out of range")
            return dev, addr & _CORE_MAX
        if dev not in _SELECTED or addr > _SPI_MAX:
            raise RegisterError(errno.EINVAL, f"register {addr:#x} out of range on {dev}")
        return "spi", addr

    def command(self, dev: str, text: str) -> None:
        """``"<addr>"`` selects a register; ``"<addr> <value>"`` writes it."""
        m = _COMMAND.fullmatch(text)
        if m is None:
            raise RegisterError(errno.EINVAL, f"not a register command: {text!r}")
        addr = int(m.group(1), 0)
        key = self._space(dev, addr)
        with self._lock:
            self._selected[dev] = addr
            if m.group(2) is None:
                return
            value = int(m.group(2), 0) & 0xFFFF_FFFF
            if key in _WRITE_ONE_TO_CLEAR:
                value = self._values.get(key, 0) & ~value
            elif key[0] == "spi":
                value &= 0xFF  # the AD9361's registers are 8 bits wide
            self._values[key] = value

    def read(self, dev: str) -> str:
        """The selected register of ``dev``'s window, printed ``0x%X``."""
        with self._lock:
            key = self._space(dev, self._selected[dev])
            return f"0x{self._values.get(key, 0):X}"

    def latch(self, core: str, bits: int) -> None:
        """Set status ``bits`` in ``core``'s DMA status register (hardware events)."""
        with self._lock:
            key = (core, DMA_STATUS)
            self._values[key] = self._values.get(key, 0) | bits

    def value(self, space: str, addr: int) -> int:
        """A register's current value (``space``: ``"spi"`` or a core's name)."""
        with self._lock:
            return self._values.get((space, addr), 0)
