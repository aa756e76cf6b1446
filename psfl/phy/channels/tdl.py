r"""``tdl-a`` … ``tdl-e``: 3GPP TR 38.901 tapped delay line (Sionna's
:class:`~sionna.phy.channel.tr38901.TDL`).

The delay profile of model A … E scaled to the RMS delay spread ``delay_spread_s``, Doppler
from ``speed_mps`` at ``carrier_hz`` (every draw at exactly that speed); one MU antenna and
``num_rx_ant`` uncorrelated BS antennas. The profile's mean powers sum to one, so
:math:`E|h|^2 = 1` over realizations. Each slot is an independent realization that evolves
over its OFDM symbols.
"""

from __future__ import annotations

import numpy as np

from .registry import CHANNELS, ChannelModel


class TDL(ChannelModel):
    r"""3GPP tapped delay line ``profile`` (A … E).

    Parameters
    ----------
    cfg : PhyConfig
        Reads ``delay_spread_s``, ``carrier_hz``, ``speed_mps``, ``num_rx_ant`` and the slot
        grid.
    profile : "A" | "B" | "C" | "D" | "E"
        TR 38.901 TDL model.

    Input
    -----
    num_slots : int or scalar tf.int32

    Output
    ------
    h : [num_slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
    """

    has_cir = True
    small_scale = True

    def __init__(self, cfg, *, profile: str, **kwargs):
        super().__init__(cfg, **kwargs)
        from sionna.phy.channel.tr38901 import TDL as SionnaTDL

        self._model = SionnaTDL(profile, cfg.delay_spread_s, cfg.carrier_hz,
                                min_speed=cfg.speed_mps, max_speed=cfg.speed_mps,
                                num_rx_ant=cfg.num_rx_ant, num_tx_ant=1, precision="single")

    @property
    def path_delays_s(self) -> np.ndarray:
        return np.asarray(self._model.delays, np.float64).reshape(-1)

    @property
    def path_powers(self) -> np.ndarray:
        return np.asarray(self._model.mean_powers, np.float64).reshape(-1)

    def cir(self, num_slots, num_time_steps, sampling_frequency):
        return self._model(num_slots, num_time_steps, sampling_frequency)

    def response(self, num_slots, frequencies, sampling_frequency):
        from ._common import fixed_delay_response

        a, tau = self.cir(num_slots, self.cfg.num_ofdm_symbols, sampling_frequency)
        return fixed_delay_response(a, tau, frequencies, self.cfg)


for _profile in "abcde":
    CHANNELS.register(f"tdl-{_profile}", order=20, profile=_profile.upper())(TDL)
