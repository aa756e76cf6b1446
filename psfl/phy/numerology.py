r"""OFDM numerology of the uplink: symbol and slot durations, data REs per slot.

* OFDM symbol with its cyclic prefix: :math:`T_\mathrm{sym} = (1 + N_\mathrm{CP}/N_\mathrm{FFT})
  / \Delta f` [s].
* Slot of :math:`N_\mathrm{sym}` OFDM symbols: :math:`T_\mathrm{slot} = N_\mathrm{sym}
  T_\mathrm{sym}` [s].
* Data REs per slot: :math:`n_\mathrm{data} = (N_\mathrm{sym} - N_\mathrm{pilot\,sym})
  N_\mathrm{sc}` (pilots fill whole OFDM symbols; none with ``pilot_pattern = "empty"``).

The one definition read by the slot grid (:class:`~psfl.phy.grid.SlotGrid`, hence the link's
Doppler sampling and :meth:`~psfl.phy.link.UplinkLink.airtime_s`) and by the airtime of the
energy accounting (:func:`psfl.phy.energy.airtime_s`). Plain arithmetic on a
:class:`~psfl.phy.config.PhyConfig`: no TensorFlow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["data_res_per_slot", "ofdm_symbol_duration_s", "slot_duration_s"]


def ofdm_symbol_duration_s(cfg: Any) -> float:
    """Duration of one OFDM symbol including its cyclic prefix [s]."""
    return (1.0 + cfg.cp_length / cfg.fft_size) / cfg.scs_hz


def slot_duration_s(cfg: Any) -> float:
    """Duration of one slot of ``cfg.num_ofdm_symbols`` OFDM symbols [s]."""
    return cfg.num_ofdm_symbols * ofdm_symbol_duration_s(cfg)


def data_res_per_slot(cfg: Any) -> int:
    """Resource elements per slot that carry data (the rest carry pilots)."""
    pilots = len(cfg.pilot_ofdm_symbol_indices) if cfg.pilot_pattern == "kronecker" else 0
    return (cfg.num_ofdm_symbols - pilots) * cfg.num_subcarriers
