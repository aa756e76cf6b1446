r"""``awgn``: the channel :math:`h = 1` (only the receiver's noise).

Its response is the same for every slot, antenna, OFDM symbol and subcarrier, so a link over
AWGN with perfect CSI is :math:`y = x + n` whatever the numerology.
"""

from __future__ import annotations

from .registry import CHANNELS, ChannelModel


@CHANNELS.register("awgn", order=0)
class AWGN(ChannelModel):
    r"""The unit channel :math:`h = 1`.

    Parameters
    ----------
    cfg : PhyConfig
        Reads ``num_rx_ant``.

    Input
    -----
    num_slots : int or scalar tf.int32
        Ignored: one response serves every slot.

    Output
    ------
    h : [1, num_rx_ant, 1, 1], tf.complex64
        Ones, broadcastable to any number of slots and the full grid.
    """

    small_scale = True
    fading = False

    def response(self, num_slots, frequencies, sampling_frequency):
        import tensorflow as tf

        return tf.ones([1, self.cfg.num_rx_ant, 1, 1], tf.complex64)
