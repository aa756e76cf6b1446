"""Digital baseline: a Pillow source coder + CRC24A + 5G LDPC + QAM over the link's channel uses.

* :mod:`~psfl.phy.digital.mcs` — the MCS table, monotone thresholds and the transport format
  (the bit budget of ``k`` channel uses).
* :mod:`~psfl.phy.digital.chain` — the CRC + LDPC + scrambling + QAM coding chain as Sionna
  blocks (:class:`TransportChain`).
* :mod:`~psfl.phy.digital.source` — the JPEG/WebP/JPEG 2000/AVIF source coders (:data:`CODECS`).
* :mod:`~psfl.phy.digital.baseline` — :class:`DigitalBaseline`, the scheme end to end.
* :mod:`~psfl.phy.digital.calibration` — BLER measurement and the MCS threshold tables per
  channel configuration (shipped in ``psfl/phy/mcs/``, or measured and cached).
* :mod:`~psfl.phy.digital.capacity` — the source coders at the channel's capacity (reference).
* :mod:`~psfl.phy.digital.segmentation` — one transport block per OFDM slot, TB/CB sizes per
  TS 38.214/38.212 (:func:`segment`).
* :mod:`~psfl.phy.digital.photo` — :class:`PhotoBaseline`, a whole photo as one codestream over
  Sionna's TBEncoder/TBDecoder, one TB per slot.
* :mod:`~psfl.phy.digital.abstraction` — Sionna's EESM and 5G BLER tables deciding each code
  block's fate instead of LDPC decoding (:class:`CodeBlockAbstraction`).
* :mod:`~psfl.phy.digital.slices` — what a failed TB loses of a photo (:data:`LOSS_RULES`): the
  photo, or only the JPEG restart intervals it touches, concealed.

Names are imported lazily, so that reading the configuration does not load TensorFlow.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "CODECS": "psfl.phy.digital.source",
    "to_uint8": "psfl.phy.digital.source",
    "DEFAULT_THRESHOLDS_DB": "psfl.phy.digital.mcs",
    "MCS": "psfl.phy.digital.mcs",
    "TransportFormat": "psfl.phy.digital.mcs",
    "mcs_table": "psfl.phy.digital.mcs",
    "transport_format": "psfl.phy.digital.mcs",
    "TransportChain": "psfl.phy.digital.chain",
    "DigitalBaseline": "psfl.phy.digital.baseline",
    "block_error_rate": "psfl.phy.digital.calibration",
    "calibrate_mcs_thresholds": "psfl.phy.digital.calibration",
    "link_mcs_thresholds": "psfl.phy.digital.calibration",
    "psnr": "psfl.phy.quality",
    "Segmentation": "psfl.phy.digital.segmentation",
    "TBLayout": "psfl.phy.digital.segmentation",
    "segment": "psfl.phy.digital.segmentation",
    "PhotoBaseline": "psfl.phy.digital.photo",
    "symbols_for": "psfl.phy.digital.photo",
    "CodeBlockAbstraction": "psfl.phy.digital.abstraction",
    "LOSS_RULES": "psfl.phy.digital.slices",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
