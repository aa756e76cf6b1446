"""OFDM slot grid: where data and pilot symbols sit, and how k symbols map onto slots.

By default the link simulates in the frequency domain, one slot (``num_ofdm_symbols`` OFDM
symbols × ``num_subcarriers`` occupied subcarriers) at a time: exact while the cyclic prefix
covers the channel's delays and the Doppler is small against the subcarrier spacing
(:mod:`psfl.phy.validity` warns otherwise); guard bands and the DC carrier carry nothing, so
they are not simulated, and ``fft_size`` and ``cp_length`` set the OFDM symbol duration
(airtime, Doppler sampling; :mod:`psfl.phy.numerology`). With ``phy.domain = "time"``
(:mod:`psfl.phy.timedomain`) the same grid is OFDM-modulated with ``fft_size`` and
``cp_length`` and sent as a waveform.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from sionna.phy.ofdm import ResourceGrid

from .config import PhyConfig
from .numerology import data_res_per_slot, ofdm_symbol_duration_s, slot_duration_s

__all__ = ["SlotGrid"]


class SlotGrid:
    r"""Resource-grid bookkeeping for one uplink stream.

    Data symbols fill the non-pilot resource elements of a slot in row-major order (OFDM
    symbol by OFDM symbol, subcarrier by subcarrier), exactly as Sionna's
    :class:`~sionna.phy.ofdm.ResourceGridMapper` does; a vector of ``k`` symbols spans
    ``ceil(k / num_data_per_slot)`` slots, the last one padded with zeros.

    Parameters
    ----------
    cfg : PhyConfig
        Numerology and pilot pattern.

    Attributes
    ----------
    resource_grid : :class:`sionna.phy.ofdm.ResourceGrid`
        The equivalent Sionna grid (for plotting with ``.show()`` and for its pilots).
    num_data_per_slot, num_pilots_per_slot : int
        Resource elements per slot carrying data / pilots.
    pilots : [num_pilot_symbols, num_subcarriers], tf.complex64
        Pilot values on the pilot OFDM symbols (unit modulus QPSK).
    pilot_symbol_indices : tuple of int
        OFDM symbols carrying pilots (empty without pilots).
    ofdm_symbol_duration_s, slot_duration_s : float
        Duration of one OFDM symbol including its CP, and of one slot [s].
    """

    def __init__(self, cfg: PhyConfig):
        self.cfg = cfg
        nsym, nsc = cfg.num_ofdm_symbols, cfg.num_subcarriers
        self.num_ofdm_symbols, self.num_subcarriers = nsym, nsc
        kron = cfg.pilot_pattern == "kronecker"
        # Sionna's grid gets fft_size=num_subcarriers and no guards: only the occupied
        # carriers are simulated (see module docstring).
        self.resource_grid = ResourceGrid(
            num_ofdm_symbols=nsym,
            fft_size=nsc,
            subcarrier_spacing=cfg.scs_hz,
            num_tx=1,
            num_streams_per_tx=1,
            cyclic_prefix_length=0,
            pilot_pattern="kronecker" if kron else "empty",
            pilot_ofdm_symbol_indices=list(cfg.pilot_ofdm_symbol_indices) if kron else None,
        )
        pp = self.resource_grid.pilot_pattern
        mask = np.asarray(pp.mask)[0, 0].astype(bool)  # [nsym, nsc], True = pilot
        flat = mask.reshape(-1)
        self.pilot_symbol_indices = tuple(cfg.pilot_ofdm_symbol_indices) if kron else ()
        self.num_pilots_per_slot = int(flat.sum())
        self.num_data_per_slot = data_res_per_slot(cfg)
        # Pilots fill whole OFDM symbols (Kronecker pattern, one stream), so the grid is
        # assembled and read by OFDM-symbol rows: a row gather moves 612-element blocks where
        # an RE gather would index every element.
        pilot_rows = mask.all(axis=1)
        if (not np.array_equal(mask, np.repeat(pilot_rows[:, None], nsc, axis=1))
                or flat.size - flat.sum() != self.num_data_per_slot):
            raise ValueError("pilots must occupy whole OFDM symbols")
        data_rows = np.flatnonzero(~pilot_rows)
        rows = np.flatnonzero(pilot_rows)
        # perm[t] indexes concat([data rows, pilot rows]) along the OFDM-symbol axis.
        perm = np.empty(nsym, np.int32)
        perm[data_rows] = np.arange(data_rows.size)
        perm[rows] = data_rows.size + np.arange(rows.size)
        self._perm = tf.constant(perm)
        self._data_rows = tf.constant(data_rows.astype(np.int32))
        pilots = np.asarray(pp.pilots)[0, 0].astype(np.complex64)  # row-major over mask
        npil = len(self.pilot_symbol_indices)
        self.pilots = tf.constant(pilots.reshape(npil, nsc) if npil else
                                  np.zeros((0, nsc), np.complex64))
        self.ofdm_symbol_duration_s = ofdm_symbol_duration_s(cfg)
        self.slot_duration_s = slot_duration_s(cfg)

    def num_slots(self, k: int) -> int:
        """Slots needed for ``k`` data symbols."""
        return max(1, math.ceil(int(k) / self.num_data_per_slot))

    def map(self, x: tf.Tensor, num_slots: int) -> tf.Tensor:
        r"""Place data symbols and pilots on slots.

        Input
        -----
        x : [batch, k], tf.complex64
            Data symbols, ``k <= num_slots * num_data_per_slot``.
        num_slots : int
            Slots per batch element.

        Output
        ------
        grid : [batch * num_slots, num_ofdm_symbols, num_subcarriers], tf.complex64
            Slot ``b * num_slots + s`` holds symbols ``s*nd … (s+1)*nd - 1`` of row ``b``.
        """
        k = x.shape[-1]
        pad = num_slots * self.num_data_per_slot - k
        x = tf.pad(x, [[0, 0], [0, pad]])
        x = tf.reshape(x, [-1, self._data_rows.shape[0], self.num_subcarriers])
        if self.num_pilots_per_slot:
            p = tf.broadcast_to(self.pilots[None], [tf.shape(x)[0], *self.pilots.shape])
            x = tf.gather(tf.concat([x, p], axis=1), self._perm, axis=1)
        return x

    def unmap(self, grid: tf.Tensor, k: int) -> tf.Tensor:
        r"""Read data symbols back in their original order (inverse of :meth:`map`).

        Input
        -----
        grid : [batch * num_slots, num_ofdm_symbols, num_subcarriers], any dtype
            Per-RE values (equalized symbols, noise variances, …).
        k : int
            Symbols per batch element.

        Output
        ------
        x : [batch, k], same dtype as ``grid``
        """
        d = tf.gather(grid, self._data_rows, axis=1) if self.num_pilots_per_slot else grid
        d = tf.reshape(d, [-1, self.num_slots(k) * self.num_data_per_slot])
        return d[:, :k]
