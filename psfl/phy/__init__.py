"""Physical layer: Sionna uplink MU→BS over an OFDM resource grid.

* :class:`UplinkLink` — ``y, no_eff = link(x, snr_db)`` for complex symbols ``x`` [batch, k].
* :class:`PhyConfig` — the ``[phy]`` configuration section; :data:`CHANNELS` — valid channel
  names.
* :mod:`psfl.phy.budget` — thermal noise, 3GPP path loss, link-budget SNR.
* :mod:`psfl.phy.energy` — Shannon rate, airtime, transmit / model-transfer / compute energy;
  :mod:`psfl.phy.numerology` — symbol and slot durations both the grid and the airtime read.
* :mod:`psfl.phy.quality` — the one PSNR rule (MSE floor, cap) every figure uses.
* :mod:`psfl.phy.digital` — digital baseline (a Pillow source coder + CRC + 5G LDPC + QAM) over the same link.
* :mod:`psfl.phy.timedomain` — the OFDM waveform through the multipath channel
  (``phy.domain = "time"``); :mod:`psfl.phy.validity` — ISI/ICI the frequency-domain link
  omits, and :class:`FrequencyDomainValidityWarning` when they matter.
* :mod:`psfl.phy.cell` — many MUs on one carrier: hexagonal multi-cell drop (:func:`drop_mus`),
  OFDMA scheduling, power control and interference (:class:`SharedUplink`, :class:`CellConfig`).

This package imports nothing from psfl.semantic, psfl.federation or psfl.hil. Names are imported
lazily, so that reading the configuration does not load TensorFlow or Sionna.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "los_probability": "psfl.phy.budget",
    "path_loss_db": "psfl.phy.budget",
    "snr_db_from_budget": "psfl.phy.budget",
    "snr_db_from_config": "psfl.phy.budget",
    "thermal_noise_dbm": "psfl.phy.budget",
    "CHANNELS": "psfl.phy.config",
    "CIR_CHANNELS": "psfl.phy.config",
    "CSI_MODES": "psfl.phy.config",
    "DOMAINS": "psfl.phy.config",
    "EQUALIZERS": "psfl.phy.config",
    "PATHLOSS_CHANNELS": "psfl.phy.config",
    "PhyConfig": "psfl.phy.config",
    "CODECS": "psfl.phy.digital",
    "DigitalBaseline": "psfl.phy.digital",
    "airtime_s": "psfl.phy.energy",
    "compute_energy_j": "psfl.phy.energy",
    "dbm_to_w": "psfl.phy.energy",
    "model_transfer_energy_j": "psfl.phy.energy",
    "shannon_rate": "psfl.phy.energy",
    "transmit_energy_j": "psfl.phy.energy",
    "w_to_dbm": "psfl.phy.energy",
    "SlotGrid": "psfl.phy.grid",
    "UplinkLink": "psfl.phy.link",
    "CellConfig": "psfl.phy.cell.config",
    "drop_mus": "psfl.phy.cell.topology",
    "SharedUplink": "psfl.phy.cell.uplink",
    "FrequencyDomainValidityWarning": "psfl.phy.validity",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
