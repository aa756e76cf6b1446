r""":class:`ChannelSampler`, the block every link draws its channel from.

The sampler knows no channel by name: it builds the :class:`~.registry.ChannelModel` registered
under ``cfg.channel`` and delegates to it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.channel import subcarrier_frequencies

from ..config import PhyConfig
from .registry import CHANNELS, ChannelModel

__all__ = ["ChannelSampler"]


class ChannelSampler(Block):
    r"""Draws the channel named by ``cfg.channel`` for a batch of slots: its frequency response
    (``__call__``) or, for channels with an impulse response, its CIR (:meth:`cir`).

    Parameters
    ----------
    cfg : PhyConfig
        Channel name, numerology, antennas, mobility and link budget.
    ofdm_symbol_duration_s : float
        Duration of one OFDM symbol with its CP [s] (time step of the channel within a slot).
    los : None (default) | bool
        Channels with path loss (umi/uma/rma) only: None draws the LoS state per realization
        with the TR 38.901 LoS probability; True / False force LoS / NLoS (analysis and tests).
    shadow_fading : bool
        Channels with path loss only: apply log-normal shadow fading (default True; False for
        analysis).

    Input
    -----
    num_slots : int or scalar tf.int32
        Number of slot realizations to draw.

    Output
    ------
    h : [num_slots, num_rx_ant, T, F], tf.complex64
        Frequency response, where ``T`` is ``num_ofdm_symbols`` or 1 (constant in time) and
        ``F`` is ``num_subcarriers`` or 1 (flat); broadcastable to the full grid.
    """

    def __init__(self, cfg: PhyConfig, ofdm_symbol_duration_s: float, *,
                 los: bool | None = None, shadow_fading: bool = True):
        super().__init__(precision="single")
        entry = CHANNELS.get(cfg.channel)  # an unknown name raises, listing the channels
        self.cfg = cfg
        self._fs = 1.0 / ofdm_symbol_duration_s
        self._freqs = subcarrier_frequencies(cfg.num_subcarriers, cfg.scs_hz, precision="single")
        self.model: ChannelModel = entry.build(cfg, los=los, shadow_fading=shadow_fading)

    @property
    def has_cir(self) -> bool:
        """True where the channel has an impulse response (:meth:`cir` is available)."""
        return self.model.has_cir

    @property
    def path_delays_s(self) -> np.ndarray | None:
        """Fixed path delays [s] (tdl/cdl: the same for every draw); None for others."""
        return self.model.path_delays_s

    @property
    def path_powers(self) -> np.ndarray | None:
        """Mean path powers (linear, sum 1) matching :attr:`path_delays_s`; None for others."""
        return self.model.path_powers

    def cir(self, num_slots, num_time_steps: int, sampling_frequency: float
            ) -> tuple[tf.Tensor, tf.Tensor]:
        r"""Channel impulse response of ``num_slots`` independent realizations, sampled
        ``num_time_steps`` times at ``sampling_frequency``, with the large-scale gain of
        channels with path loss applied (channels with an impulse response only).

        Input
        -----
        num_slots : int or scalar tf.int32
        num_time_steps : int
        sampling_frequency : float
            [Hz]

        Output
        ------
        a : [num_slots, 1, num_rx_ant, 1, 1, num_paths, num_time_steps], tf.complex64
            Path coefficients (Sionna layout).
        tau : [num_slots, 1, 1, num_paths], tf.float32
            Path delays [s].
        """
        if not self.has_cir:
            raise ValueError(f"channel {self.cfg.channel!r} has no impulse response; use one "
                             f"of {', '.join(CHANNELS.names(has_cir=True))}")
        return self.model.cir(num_slots, num_time_steps, sampling_frequency)

    def call(self, num_slots):
        return self.model.response(num_slots, self._freqs, self._fs)

    def consecutive(self, num_messages, slots: int) -> tf.Tensor:
        r"""Frequency responses of ``num_messages`` messages of ``slots`` consecutive slots each:
        one realization per message sampled at every OFDM symbol of all its slots, so the
        fading of slot :math:`s + 1` continues that of slot :math:`s` (on TDL the
        autocorrelation over a lag :math:`\Delta t` is Clarke's :math:`J_0(2\pi f_D \Delta t)`,
        :math:`f_D` from ``speed_mps``; on CDL it follows the clusters' arrival angles); channels
        with an impulse response only.

        Input
        -----
        num_messages : int or scalar tf.int32
        slots : int

        Output
        ------
        h : [num_messages * slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
            Slot-major per message, as :meth:`call`'s ``num_messages * slots`` draws.
        """
        from ._common import frequency_response

        cfg, t = self.cfg, self.cfg.num_ofdm_symbols
        a, tau = self.cir(num_messages, slots * t, self._fs)
        h = frequency_response(a, tau, self._freqs)  # [m, R, slots * T, F]
        h = tf.reshape(h, [-1, cfg.num_rx_ant, slots, t, cfg.num_subcarriers])
        return tf.reshape(tf.transpose(h, [0, 2, 1, 3, 4]),
                          [-1, cfg.num_rx_ant, t, cfg.num_subcarriers])
