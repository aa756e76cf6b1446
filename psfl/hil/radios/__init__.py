"""Radios behind one interface (:class:`Radio`), one module each, found by :data:`RADIOS`.

* :mod:`~psfl.hil.radios.registry` — :class:`Radio` (the interface and the capabilities
  ``psfl hil`` reads), :data:`RADIOS`, :func:`open_radio` (the factory), :class:`RadioError`.
* :mod:`~psfl.hil.radios.pluto` — :class:`PlutoRadio`: an ADALM-Pluto through pyadi-iio
  (``hil.radio = "pluto"``), and :func:`check_pluto_settings`.
* :mod:`~psfl.hil.radios.twin` — :class:`TwinRadio`: the Pluto twin on loopback through the
  same pyadi-iio + libiio path (``"twin"``).
* :mod:`~psfl.hil.radios.emulated` — :class:`EmulatedRadio`: a numpy front end with its
  impairments (``"emulated"``).
* :func:`exp_taps` — the static multipath of the radios that model their channel.

A new radio is one new module here (copy :mod:`~psfl.hil.radios.emulated`): a :class:`Radio`
subclass registered with ``@RADIOS.register("name")``, its capabilities as class attributes and
a ``from_config`` classmethod; ``hil.radio``, ``psfl hil --radio`` and :func:`open_radio` then
offer it. Names are imported lazily: ``import psfl.hil.radios`` (and listing the radios) loads
neither TensorFlow, pyadi-iio nor libiio.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "RADIOS": "psfl.hil.radios.registry",
    "Radio": "psfl.hil.radios.registry",
    "RadioError": "psfl.hil.radios.registry",
    "open_radio": "psfl.hil.radios.registry",
    "radio_class": "psfl.hil.radios.registry",
    "PlutoRadio": "psfl.hil.radios.pluto",
    "check_pluto_settings": "psfl.hil.radios.pluto",
    "TwinRadio": "psfl.hil.radios.twin",
    "EmulatedRadio": "psfl.hil.radios.emulated",
    "exp_taps": "psfl.hil.radios._common",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
