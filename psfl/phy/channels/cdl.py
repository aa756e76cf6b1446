r"""``cdl-a`` … ``cdl-e``: 3GPP TR 38.901 clustered delay line, uplink (Sionna's
:class:`~sionna.phy.channel.tr38901.CDL`).

Model A … E with RMS delay spread ``delay_spread_s`` and Doppler from ``speed_mps`` at
``carrier_hz``; one isotropic MU antenna and a BS uniform linear array of ``num_rx_ant``
isotropic, vertically polarized elements at half a wavelength. The cluster powers are
normalized to sum to one (:attr:`CDL.path_powers`) and the antennas are isotropic, so
:math:`E|h|^2 = 1` over realizations. Each slot is an independent realization that evolves
over its OFDM symbols.
"""

from __future__ import annotations

import numpy as np

from .registry import CHANNELS, ChannelModel


class CDL(ChannelModel):
    r"""3GPP clustered delay line ``profile`` (A … E), uplink.

    Parameters
    ----------
    cfg : PhyConfig
        Reads ``delay_spread_s``, ``carrier_hz``, ``speed_mps``, ``num_rx_ant`` and the slot
        grid.
    profile : "A" | "B" | "C" | "D" | "E"
        TR 38.901 CDL model.

    Input
    -----
    num_slots : int or scalar tf.int32

    Output
    ------
    h : [num_slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
    """

    has_cir = True

    def __init__(self, cfg, *, profile: str, **kwargs):
        super().__init__(cfg, **kwargs)
        from sionna.phy.channel.tr38901 import CDL as SionnaCDL

        from ._common import antenna_arrays

        ut, bs = antenna_arrays(cfg)
        self._model = SionnaCDL(profile, cfg.delay_spread_s, cfg.carrier_hz, ut, bs, "uplink",
                                min_speed=cfg.speed_mps, max_speed=cfg.speed_mps,
                                precision="single")

    @property
    def path_delays_s(self) -> np.ndarray:
        return np.asarray(self._model.delays, np.float64).reshape(-1)

    @property
    def path_powers(self) -> np.ndarray:
        p = np.asarray(self._model.powers, np.float64).reshape(-1)
        return p / p.sum()

    def cir(self, num_slots, num_time_steps, sampling_frequency):
        from ._common import shared_delays

        a, tau = self._model(num_slots, num_time_steps, sampling_frequency)
        return a, shared_delays(tau)

    def response(self, num_slots, frequencies, sampling_frequency):
        from ._common import fixed_delay_response

        a, tau = self.cir(num_slots, self.cfg.num_ofdm_symbols, sampling_frequency)
        return fixed_delay_response(a, tau, frequencies, self.cfg)


for _profile in "abcde":
    CHANNELS.register(f"cdl-{_profile}", order=30, profile=_profile.upper())(CDL)
