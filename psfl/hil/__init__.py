"""Hardware in the loop: psfl's frames through a software-defined radio.

* :class:`~psfl.hil.waveform.FrameFormat` — OFDM transmitter (Schmidl–Cox preamble, header,
  psfl.phy's slots), DAC scaling.
* :class:`~psfl.hil.receiver.Receiver` — detection, timing, CFO, channel estimation,
  equalization, noise/SNR/EVM per frame (:mod:`psfl.hil.sync` holds the estimators).
* :mod:`psfl.hil.radios` — the :class:`Radio` base and its registry :data:`RADIOS` (one module
  per radio): :class:`PlutoRadio` (pyadi-iio), :class:`TwinRadio` (Pluto twin on loopback),
  :class:`EmulatedRadio` (numpy front end); :func:`open_radio`, :class:`RadioError`.
* :class:`~psfl.hil.link.HilLink` — symbols → radio → symbols, batch by batch.
* :func:`~psfl.hil.snr.snr_plan` — what ``hil.snr_db`` means (per RE or relative to the TX
  waveform) and the per-RE SNR the receiver should measure.
* :func:`~psfl.hil.session.run_session` — one ``psfl hil`` run (codec, frames through the radio,
  measures, decoding); :mod:`psfl.hil.figures` draws it.
* :class:`~psfl.hil.config.HilConfig` — the ``[hil]`` section; :class:`~psfl.hil.twin.PlutoTwin`.

Names are imported lazily: ``import psfl.hil`` loads neither TensorFlow nor pyadi-iio.
"""

from __future__ import annotations

from psfl._lazy import lazy_face
from psfl.hil.iio_guard import install as _install_iio_guard

_install_iio_guard()

_EXPORTS = {
    "FrameFormat": "psfl.hil.waveform",
    "Receiver": "psfl.hil.receiver",
    "FrameResult": "psfl.hil.receiver",
    "HilLink": "psfl.hil.link",
    "HilResult": "psfl.hil.link",
    "HilConfig": "psfl.hil.config",
    "RADIOS": "psfl.hil.radios",
    "Radio": "psfl.hil.radios",
    "EmulatedRadio": "psfl.hil.radios",
    "PlutoRadio": "psfl.hil.radios",
    "TwinRadio": "psfl.hil.radios",
    "RadioError": "psfl.hil.radios",
    "check_pluto_settings": "psfl.hil.radios",
    "open_radio": "psfl.hil.radios",
    "PlutoTwin": "psfl.hil.twin",
    "HilSession": "psfl.hil.session",
    "run_session": "psfl.hil.session",
    "snr_plan": "psfl.hil.snr",
    "waveform_offset": "psfl.hil.snr",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
