"""Pluto twin: an ADALM-Pluto served over libiio's network protocol on loopback.

The twin is a small pure-Python ``iiod`` look-alike. ``adi.Pluto(twin.uri)`` connects to it
through the real pyadi-iio → pylibiio → libiio 0.24 network backend, so every attribute
access and every buffer transfer crosses the same code path as with a Pluto on USB/Ethernet.

- :mod:`~psfl.hil.twin.server` — :class:`PlutoTwin`: the socket server, its lifecycle and
  fault injection (dropped and stalled connections).
- :mod:`~psfl.hil.twin.protocol` — the iiod text protocol as a table from command to handler.
- :mod:`~psfl.hil.twin.frontend` — the TX → LO mismatch → channel → noise → gain → ADC
  path (receiver noise floor, RSSI), shared with :class:`psfl.hil.radios.EmulatedRadio`.
- :mod:`~psfl.hil.twin.dds` — the TX core's tone generator; :mod:`~psfl.hil.twin.dma` —
  the DMA's sample clock against wall time (overflow, underflow).
- :mod:`psfl.hil.pluto_model`, :mod:`psfl.hil.pluto_rules`, :mod:`psfl.hil.pluto_state` —
  the devices, the driver's attribute rules and the attribute store it serves, with their
  data: :mod:`psfl.hil.pluto_defaults`, :mod:`psfl.hil.pluto_adi_debug`,
  :mod:`psfl.hil.pluto_tables` (LO bands, noise), :mod:`psfl.hil.pluto_clock` (the clock
  chain), :mod:`psfl.hil.pluto_regs` (register windows).
- ``python -m psfl.hil.twin`` (:mod:`~psfl.hil.twin.__main__`) — a twin in the foreground.

The package needs only numpy; it does not import psfl.phy/semantic/federation.
"""

from __future__ import annotations

from typing import Any

from psfl.hil.twin.server import IIOD_PORT, PlutoTwin

__all__ = ["IIOD_PORT", "PlutoTwin", "main"]


def __getattr__(name: str) -> Any:
    # ``main`` lives in __main__.py; imported on first use, because importing it here would
    # make ``python -m psfl.hil.twin`` find the module already loaded and warn.
    if name == "main":
        from psfl.hil.twin.__main__ import main

        return main
    raise AttributeError(f"module 'psfl.hil.twin' has no attribute {name!r}")
