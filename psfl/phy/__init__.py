"""Physical layer: Sionna uplink MU→BS over an OFDM resource grid.

* :class:`UplinkLink` — ``y, no_eff = link(x, snr_db)`` for complex symbols ``x`` [batch, k].
* :class:`PhyConfig` — the ``[phy]`` configuration section; :data:`CHANNELS` — valid channel
  names.
* :mod:`psfl.phy.budget` — thermal noise, 3GPP path loss, link-budget SNR.
* :mod:`psfl.phy.energy` — Shannon rate, airtime, transmit / model-transfer / compute energy.
* :mod:`psfl.phy.digital` — digital baseline (a Pillow source coder + CRC + 5G LDPC + QAM) over the same link.
* :mod:`psfl.phy.timedomain` — the OFDM waveform through the multipath channel
  (``phy.domain = "time"``); :mod:`psfl.phy.validity` — ISI/ICI the frequency-domain link
  omits, and :class:`FrequencyDomainValidityWarning` when they matter.

This package imports nothing from psfl.semantic, psfl.federation or psfl.hil.
"""

from .budget import (
    los_probability,
    path_loss_db,
    snr_db_from_budget,
    snr_db_from_config,
    thermal_noise_dbm,
)
from .config import (
    CHANNELS,
    CIR_CHANNELS,
    CSI_MODES,
    DOMAINS,
    EQUALIZERS,
    PATHLOSS_CHANNELS,
    PhyConfig,
)
from .digital import CODECS, DigitalBaseline
from .energy import (
    airtime_s,
    compute_energy_j,
    dbm_to_w,
    model_transfer_energy_j,
    shannon_rate,
    transmit_energy_j,
    w_to_dbm,
)
from .grid import SlotGrid
from .link import UplinkLink
from .validity import FrequencyDomainValidityWarning

__all__ = [
    "CHANNELS",
    "CIR_CHANNELS",
    "CODECS",
    "DigitalBaseline",
    "CSI_MODES",
    "DOMAINS",
    "EQUALIZERS",
    "FrequencyDomainValidityWarning",
    "PATHLOSS_CHANNELS",
    "PhyConfig",
    "SlotGrid",
    "UplinkLink",
    "airtime_s",
    "compute_energy_j",
    "dbm_to_w",
    "model_transfer_energy_j",
    "shannon_rate",
    "transmit_energy_j",
    "w_to_dbm",
    "los_probability",
    "path_loss_db",
    "snr_db_from_budget",
    "snr_db_from_config",
    "thermal_noise_dbm",
]
