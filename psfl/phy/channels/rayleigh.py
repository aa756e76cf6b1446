r"""``rayleigh``: flat Rayleigh block fading.

One :math:`\mathcal{CN}(0,1)` coefficient per slot and receive antenna, constant over the slot
(block fading; slots fade independently), from Sionna's
:class:`~sionna.phy.channel.RayleighBlockFading`. :math:`E|h|^2 = 1` over realizations; single
draws are not normalized, so the fading is kept.
"""

from __future__ import annotations

from .registry import CHANNELS, ChannelModel


@CHANNELS.register("rayleigh", order=10)
class Rayleigh(ChannelModel):
    r"""Flat Rayleigh block fading, independent per slot and receive antenna.

    Parameters
    ----------
    cfg : PhyConfig
        Reads ``num_rx_ant``.

    Input
    -----
    num_slots : int or scalar tf.int32

    Output
    ------
    h : [num_slots, num_rx_ant, 1, 1], tf.complex64
        Constant over the slot's OFDM symbols and subcarriers.
    """

    small_scale = True

    def __init__(self, cfg, **kwargs):
        super().__init__(cfg, **kwargs)
        from sionna.phy.channel import RayleighBlockFading

        self._model = RayleighBlockFading(1, cfg.num_rx_ant, 1, 1, precision="single")

    def response(self, num_slots, frequencies, sampling_frequency):
        import tensorflow as tf

        a, _ = self._model(num_slots, 1)
        return tf.reshape(a, [-1, self.cfg.num_rx_ant, 1, 1])
