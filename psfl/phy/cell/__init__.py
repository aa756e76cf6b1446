r"""Many MUs on one uplink carrier: a multi-cell hexagonal layout (TR 38.901), OFDMA
scheduling, open-loop power control (TS 38.213) and co-channel interference, from Sionna's
system-level module ``sionna.sys`` where it has the part.

* :class:`CellConfig` — the ``[cell]`` section (scenario, rings, inter-site distance,
  wrap-around, MUs per cell, scheduler, :math:`P_0`, :math:`\alpha`, interference).
* :func:`drop_mus` → :class:`Drop` — MUs dropped in the layout with serving cell, distances,
  LoS state, shadowing and speed (:mod:`~psfl.phy.cell.topology`); :func:`plot_drop` draws it.
* :data:`SCHEDULERS` — ``round-robin``, ``proportional-fair`` (one module each in
  :mod:`psfl.phy.cell.schedulers`).
* :func:`uplink_power_dbm`, :func:`snr_per_re_db` — fractional power control and the SNR it
  gives (:mod:`~psfl.phy.cell.power_control`).
* :func:`mean_inr`, :func:`geometry_sinr_db` — interference in closed form
  (:mod:`~psfl.phy.cell.interference`); :func:`jain_index` — fairness.
* :class:`SharedUplink` — the serving cell's MUs in one link call, interference included
  (:mod:`~psfl.phy.cell.uplink`).

Names are imported lazily: reading the configuration loads no TensorFlow.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "CellConfig": "psfl.phy.cell.config",
    "Drop": "psfl.phy.cell.topology",
    "drop_mus": "psfl.phy.cell.topology",
    "jain_index": "psfl.phy.cell.fairness",
    "plot_drop": "psfl.phy.cell.figure",
    "geometry_sinr_db": "psfl.phy.cell.interference",
    "mean_inr": "psfl.phy.cell.interference",
    "round_robin_load": "psfl.phy.cell.interference",
    "snr_per_re_db": "psfl.phy.cell.power_control",
    "uplink_power_dbm": "psfl.phy.cell.power_control",
    "SCHEDULERS": "psfl.phy.cell.schedulers.registry",
    "Scheduler": "psfl.phy.cell.schedulers.registry",
    "SharedUplink": "psfl.phy.cell.uplink",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
