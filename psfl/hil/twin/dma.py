"""The twin's DMA against wall time: RX overflow when a reader falls behind, TX underflow
when a non-cyclic transmitter runs dry.

The twin serves samples as fast as a client asks (it never makes a reader wait for the
sample clock), but it keeps the clock a Pluto's DMA runs on, ``fs`` samples per second
of wall time from the moment a buffer opens, and latches what the HDL cores would:

- RX: the ADC fills the kernel blocks of the buffer's size (libiio's ``BUFFERS_COUNT``,
  4 by default) but the one the reader holds; when the samples captured exceed those read
  by more than that, the core's DMA status register (0x88) latches overflow (bit 2). A
  read the twin answers before the clock has produced its samples counts as a read that
  waited for them, as a Pluto's does. The real DMA then drops samples; the twin keeps the stream contiguous
  (so a slow run gives the same numbers as a fast one) and only reports that a Pluto
  would have dropped some.
- TX, non-cyclic: each pushed block plays for ``len/fs`` seconds after the previous one;
  when the queue runs dry while the buffer is open the core latches underflow (bit 0),
  once per dry spell. A cyclic buffer never runs dry.

Status bits are cleared by writing 1s (:mod:`psfl.hil.pluto_regs`). Pure Python.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from psfl.hil.pluto_regs import OVERFLOW, UNDERFLOW, Registers

__all__ = ["DEFAULT_BLOCKS", "DmaMonitor"]

#: libiio's default number of kernel blocks per buffer.
DEFAULT_BLOCKS = 4


@dataclass
class _Rx:
    t0: float  # wall time the count below refers to
    produced: float  # samples the ADC had captured at t0
    consumed: int
    capacity: int
    fs: float


@dataclass
class _Tx:
    fs: float
    end: float | None = None  # wall time the queued samples run out
    dry_flagged: bool = False


class DmaMonitor:
    """Sample clocks of the open buffers, latching overflow/underflow into the registers.

    Parameters
    ----------
    registers : Registers
        Where the status bits latch (the cores' register 0x88).
    clock : Callable[[], float]
        Wall time in seconds (``time.monotonic``; injectable for tests).

    Input
    -----
    :meth:`open` / :meth:`data` / :meth:`close` — buffer events of one core.

    Output
    ------
    Status bits in ``registers``; :meth:`refresh` brings them up to date.
    """

    def __init__(self, registers: Registers, clock: Callable[[], float] = time.monotonic) -> None:
        self.registers = registers
        self.clock = clock
        self._lock = threading.Lock()
        self._rx: dict[str, _Rx] = {}
        self._tx: dict[str, _Tx] = {}

    def open(self, core: str, samples: int, blocks: int, fs: float, *, tx: bool,
             cyclic: bool) -> None:
        """A buffer of ``samples`` per block opened on ``core`` at sample rate ``fs``."""
        with self._lock:
            if not tx:
                # the block a reader holds is not the DMA's: it fills the others
                self._rx[core] = _Rx(self.clock(), 0.0, 0, samples * max(blocks - 1, 1), fs)
            elif not cyclic:
                self._tx[core] = _Tx(fs)

    def close(self, core: str) -> None:
        """The buffer on ``core`` closed: its DMA stops."""
        with self._lock:
            self._rx.pop(core, None)
            self._tx.pop(core, None)

    def data(self, core: str, n: int) -> None:
        """``n`` samples were read from (RX) or pushed to (TX) ``core``."""
        with self._lock:
            now = self.clock()
            rx = self._rx.get(core)
            if rx is not None:
                rx.consumed += n
                produced = rx.produced + (now - rx.t0) * rx.fs
                if rx.consumed > produced:
                    # A Pluto's read blocks until the samples exist; the twin answers at
                    # once, as if this read had waited: the clock restarts from here, and a
                    # fast reader earns no credit against a later pause.
                    rx.t0, rx.produced = now, float(rx.consumed)
                self._check_rx(core, rx, now)
            tx = self._tx.get(core)
            if tx is not None:
                self._check_tx(core, tx, now)
                start = now if tx.end is None else max(now, tx.end)
                tx.end = start + n / tx.fs
                tx.dry_flagged = False

    def refresh(self) -> None:
        """Latch what the clocks say now (before a status register is read)."""
        with self._lock:
            now = self.clock()
            for core, rx in self._rx.items():
                self._check_rx(core, rx, now)
            for core, tx in self._tx.items():
                self._check_tx(core, tx, now)

    def _check_rx(self, core: str, rx: _Rx, now: float) -> None:
        produced = rx.produced + (now - rx.t0) * rx.fs
        if produced - rx.consumed > rx.capacity:
            self.registers.latch(core, OVERFLOW)
            # the DMA dropped what did not fit: the backlog restarts from full
            rx.t0, rx.produced = now, float(rx.consumed + rx.capacity)

    def _check_tx(self, core: str, tx: _Tx, now: float) -> None:
        if tx.end is not None and now > tx.end and not tx.dry_flagged:
            self.registers.latch(core, UNDERFLOW)
            tx.dry_flagged = True
